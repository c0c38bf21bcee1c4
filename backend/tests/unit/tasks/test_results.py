"""Result budgets: what fits is measured exactly as it will be stored (compact JSON, UTF-8)."""

from __future__ import annotations

import json

import pytest

from ascep.tasks.results import ResultTooLarge, check_size, encoded_size, fit_tail, json_string_size


def test_encoded_size_counts_escapes_and_utf8() -> None:
    assert encoded_size({"a": "é\n"}) == len(json.dumps({"a": "é\n"}, separators=(",", ":")).encode())
    assert json_string_size('a\nb"') == len('a\\nb\\"')


@pytest.mark.parametrize("budget", [0, 5, 40, 1000])
def test_fit_tail_keeps_the_newest_items_that_fit(budget: int) -> None:
    items = [{"i": i} for i in range(20)]
    kept = fit_tail(items, budget)
    assert kept == items[len(items) - len(kept) :]
    assert encoded_size(kept) <= budget + 2  # the list's brackets
    if len(kept) < len(items):
        assert encoded_size(items[-len(kept) - 1 :]) > budget


def test_check_size_names_the_setting() -> None:
    check_size({"x": "y" * 10}, 100)
    with pytest.raises(ResultTooLarge, match=r"exceeds TASK_RESULT_MAX_BYTES \(100 bytes\)"):
        check_size({"x": "y" * 200}, 100)
