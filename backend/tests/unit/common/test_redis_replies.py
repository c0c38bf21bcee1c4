"""Redis replies turned into ``str`` whatever the client's ``decode_responses``."""

from __future__ import annotations

import pytest

from ascep.common.redis_replies import optional_text, text, text_map, texts


@pytest.mark.parametrize("reply", ["sig:12", b"sig:12"])
def test_text_gives_str_for_bytes_and_str(reply: bytes | str) -> None:
    assert text(reply) == "sig:12"
    assert type(text(reply)) is str


def test_text_refuses_a_non_string_reply() -> None:
    with pytest.raises(TypeError, match="tuple"):
        text((b"member", 1.0))  # a WITHSCORES pair is not a member


def test_optional_text_keeps_none() -> None:
    assert optional_text(None) is None
    assert optional_text(b"holder") == "holder"


def test_texts_and_text_map() -> None:
    assert texts([b"a", "b"]) == ["a", "b"]
    assert text_map({b"k": b"v", "x": "y"}) == {"k": "v", "x": "y"}
