"""The custom_condition expression language: what it parses to, what it refuses, never eval."""

from __future__ import annotations

from typing import Any

import pytest

from ascep.cep.expressions import MAX_EXPRESSION_LENGTH, ExpressionError, looks_like_expression, parse
from ascep.cep.filters import compile_filter


def holds(text: str, event: dict[str, Any]) -> bool:
    return compile_filter(parse(text).filter, "$")(event, None)


BTC = {"symbol": "BTCUSDT", "price": 51000.0, "volume": 2_500_000, "source": "binance", "ok": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('price > 50000 and symbol == "BTCUSDT"', True),
        ("price > 50000 AND symbol == 'ETHUSDT'", False),
        ('price < 50000 or symbol == "BTCUSDT"', True),
        ('price > 50000 && !(source == "binance")', False),
        ("not price > 60000", True),
        ("volume >= 2000000", True),
        ("volume >= 2.5e6", True),
        ('symbol in ["BTCUSDT", "ETHUSDT"]', True),
        ('symbol not in ["BTCUSDT"]', False),
        ('symbol contains "BTC"', True),
        ('symbol matches "^BTC"', True),
        ("ok == true", True),
        ("missing == null", False),  # a missing field never matches, as in where
        ("missing != 1", False),
        ("price >= 51000%", True),  # 5% is the number 5
        ("((price > 1))", True),
    ],
)
def test_expressions_evaluate_over_the_event(text: str, expected: bool) -> None:
    assert holds(text, BTC) is expected


def test_parse_gives_a_where_filter_and_the_fields_read() -> None:
    parsed = parse('price > 1 and (symbol == "A" or volume < 2)')
    assert parsed.filter == {
        "all": [
            {"field": "price", "op": ">", "value": 1},
            {
                "any": [
                    {"field": "symbol", "op": "==", "value": "A"},
                    {"field": "volume", "op": "<", "value": 2},
                ]
            },
        ]
    }
    assert parsed.fields == {"price", "symbol", "volume"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("price >", "expected a value"),
        ("price = 5", "use '=='"),
        ("> 5", "expected a field name"),
        ("price 5", "expected a comparison"),
        ("price > 5 and", "expected a field name"),
        ("(price > 5", "expected ')'"),
        ("price > 5)", "unexpected ')'"),
        ("price > 5 ; drop", "unexpected character ';'"),
        ("symbol in 'A'", "needs a list"),
        ("symbol matches 5", "needs a quoted regular expression"),
        ("symbol in [[1]]", "cannot be nested"),
        ("__import__('os').system('x')", "unexpected character '.'"),
        ("(" * 9 + "price > 1" + ")" * 9, "nested more than 8 levels"),
        ("a>1&&" * 60 + "a>1", "at most 200 tokens"),
        ("x" * (MAX_EXPRESSION_LENGTH + 1), f"at most {MAX_EXPRESSION_LENGTH} characters"),
    ],
)
def test_bad_expressions_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert message in str(caught.value)


def test_names_are_only_ever_event_fields() -> None:
    assert parse("__import__ == 'os'").fields == {"__import__"}  # a field no event has
    assert not holds("__import__ == 'os'", BTC)


def test_position_points_at_the_offending_character() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse("price > 5 & 2")
    assert caught.value.position == 10


@pytest.mark.parametrize(
    ("text", "expression"),
    [("BTC", False), ("BTC and ETH", False), ("EURUSD", False), ("price > 1", True),
     ('symbol contains "BTC"', True), ("a (b)", True), ("x=1", True)],
)  # fmt: skip
def test_auto_mode_reads_plain_text_as_a_substring(text: str, expression: bool) -> None:
    assert looks_like_expression(text) is expression
