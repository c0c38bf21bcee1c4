"""The rules shown in the README's CEP section are valid (documentation cannot drift)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ascep.cep.rules import validate_rule

README = (Path(__file__).resolve().parents[4] / "README.md").read_text()
SECTION = README[
    README.index("## CEP engine (port 5004)") : README.index("### Engine", README.index("## CEP engine"))
]


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object inside the ```json blocks of ``text``."""
    found: list[dict[str, Any]] = []
    for block in text.split("```json")[1:]:
        body, depth, current = block.split("```")[0], 0, ""
        for char in body:
            depth += char == "{"
            if depth:
                current += char
            if char == "}":
                depth -= 1
                if depth == 0:
                    found.append(json.loads(current))
                    current = ""
    return found


EXAMPLES = json_objects(SECTION)


def test_there_is_an_example_per_pattern() -> None:
    from ascep.cep.patterns import PATTERNS

    assert {e["pattern"] for e in EXAMPLES} == set(PATTERNS)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["pattern"])
def test_readme_example_is_valid(example: dict[str, Any]) -> None:
    validate_rule({"name": "example", **example})
