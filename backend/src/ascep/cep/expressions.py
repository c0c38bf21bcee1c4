"""The ``custom_condition`` expression language: text in, a ``where`` filter out. Never ``eval``.

    price > 50000 and symbol == "BTCUSDT"
    (volume >= 2000000 or price_change > 5%) and not source == "simulated"
    symbol in ["EUR/USD", "GBP/USD"] && spread_percentage >= 0.2
    symbol contains "BTC" || symbol matches "^ETH"

Grammar (keywords are case-insensitive)::

    expr       := term (("or" | "||") term)*
    term       := factor (("and" | "&&") factor)*
    factor     := ("not" | "!") factor | "(" expr ")" | comparison
    comparison := field op value
    op         := == != > >= < <= contains matches in not_in
    value      := number ["%"] | "text" | 'text' | true | false | null | "[" value, ... "]"
    field      := name ("." name)*          (dotted: into nested objects)

The result is the same JSON filter a rule's ``where`` takes (``{"all": [...]}``, ``{"any": ...}``,
``{"not": ...}``, ``{"field", "op", "value"}``), compiled by :mod:`ascep.cep.filters` — so the
semantics (a missing field never matches, numbers compare with numbers, RE2 for ``matches``) and
the nesting limit are the filter language's. ``5%`` is the number 5: percentages in events are
already in percent. A hand-written parser instead of ``eval``/``ast``: rule text comes from API
clients, and the only thing it can do is compare event fields with literals.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ascep.cep.filters import MAX_DEPTH

#: Longest expression accepted (the JSON Schema says so too; the tokenizer never sees more).
MAX_EXPRESSION_LENGTH = 500
#: Most tokens in one expression (a bound on the filter built from it).
MAX_TOKENS = 200

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?%?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>!()\[\],=])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"==", "!=", ">", ">=", "<", "<="}
_WORD_OPERATORS = {"contains", "matches", "in", "not_in"}
_LITERALS = {"true": True, "false": False, "null": None}
#: Characters that only an expression would contain (``auto`` mode reads such a text as one).
EXPRESSION_MARKS = frozenset("=<>!()")


class ExpressionError(ValueError):
    """The text is not a valid expression; ``position`` is the offending character (0-based)."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position
        self.message = message


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number, string, op, name, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            MAX_EXPRESSION_LENGTH, f"an expression is at most {MAX_EXPRESSION_LENGTH} characters"
        )
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None or found.lastgroup is None:
            start = len(text) - len(text[position:].lstrip())
            raise ExpressionError(start, f"unexpected character {text[start]!r}")
        kind = found.lastgroup
        tokens.append(Token(kind, found.group(kind), found.start(kind)))
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError(found.start(kind), f"an expression has at most {MAX_TOKENS} tokens")
        position = found.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.fields: set[str] = set()

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.current
        if (token.kind == "op" and token.text in words) or (
            token.kind == "name" and token.text.lower() in words
        ):
            self.index += 1
            return True
        return False

    def parse(self) -> dict[str, Any]:
        if self.current.kind == "end":
            raise ExpressionError(0, "the expression is empty")
        tree = self.expression(0)
        if self.current.kind != "end":
            raise ExpressionError(self.current.position, f"unexpected {self.current.text!r}")
        return tree

    def expression(self, depth: int) -> dict[str, Any]:
        return self._chain("any", ("or", "||"), self.term, depth)

    def term(self, depth: int) -> dict[str, Any]:
        return self._chain("all", ("and", "&&"), self.factor, depth)

    def _chain(self, combinator: str, words: tuple[str, ...], part: Any, depth: int) -> dict[str, Any]:
        items = [part(depth)]
        while self.keyword(*words):
            items.append(part(depth))
        return items[0] if len(items) == 1 else {combinator: items}

    def factor(self, depth: int) -> dict[str, Any]:
        if depth >= MAX_DEPTH:
            raise ExpressionError(self.current.position, f"nested more than {MAX_DEPTH} levels deep")
        if self.keyword("not", "!"):
            return {"not": self.factor(depth + 1)}
        if self.current.kind == "op" and self.current.text == "(":
            self.advance()
            inner = self.expression(depth + 1)
            self.expect(")")
            return inner
        return self.comparison()

    def expect(self, text: str) -> None:
        if self.current.kind != "op" or self.current.text != text:
            raise ExpressionError(
                self.current.position, f"expected {text!r}, got {self.current.text or 'the end'!r}"
            )
        self.advance()

    def comparison(self) -> dict[str, Any]:
        token = self.advance()
        if token.kind != "name" or token.text.lower() in ("and", "or", "not", *_LITERALS, *_WORD_OPERATORS):
            raise ExpressionError(token.position, f"expected a field name, got {token.text or 'the end'!r}")
        op_token = self.advance()
        op = op_token.text.lower() if op_token.kind == "name" else op_token.text
        if op == "=":
            raise ExpressionError(op_token.position, "use '==' to compare")
        if op == "not" and self.current.kind == "name" and self.current.text.lower() == "in":
            self.advance()
            op = "not_in"
        if op_token.kind not in ("op", "name") or (op not in _COMPARISONS and op not in _WORD_OPERATORS):
            raise ExpressionError(
                op_token.position,
                f"expected a comparison after {token.text!r}, got {op_token.text or 'the end'!r}",
            )
        value = self.value()
        if op in ("in", "not_in") and not isinstance(value, list):
            raise ExpressionError(op_token.position, f'\'{op}\' needs a list, e.g. ["A", "B"]')
        if op == "matches" and not isinstance(value, str):
            raise ExpressionError(op_token.position, "'matches' needs a quoted regular expression")
        self.fields.add(token.text)
        return {"field": token.text, "op": op, "value": value}

    def value(self) -> Any:
        token = self.advance()
        if token.kind == "number":
            number = float(token.text.rstrip("%"))
            return (
                int(number)
                if number.is_integer() and "." not in token.text and "e" not in token.text.lower()
                else number
            )
        if token.kind == "string":
            return _unquote(token)
        if token.kind == "name" and token.text.lower() in _LITERALS:
            return _LITERALS[token.text.lower()]
        if token.kind == "op" and token.text == "[":
            items: list[Any] = []
            while not (self.current.kind == "op" and self.current.text == "]"):
                item = self.value()
                if isinstance(item, list):
                    raise ExpressionError(token.position, "lists cannot be nested")
                items.append(item)
                if not (self.current.kind == "op" and self.current.text == ","):
                    break
                self.advance()
            self.expect("]")
            return items
        raise ExpressionError(
            token.position,
            f'expected a value (number, "text", true, false, null, [list]), got {token.text or "the end"!r}',
        )


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    try:
        text = json.loads(f'"{body}"')
    except ValueError as exc:
        raise ExpressionError(token.position, "invalid escape in a quoted text") from exc
    assert isinstance(text, str)  # json.loads of a quoted JSON string gives a string
    return text


@dataclass(frozen=True, slots=True)
class Parsed:
    """An expression as a ``where`` filter, and the fields it reads."""

    filter: dict[str, Any]
    fields: frozenset[str]


def parse(text: str) -> Parsed:
    """Parse ``text``; raises :class:`ExpressionError` saying what is wrong and where."""
    parser = _Parser(text)
    tree = parser.parse()
    return Parsed(tree, frozenset(parser.fields))


def looks_like_expression(text: str) -> bool:
    """``auto`` mode: a text with a comparison or a parenthesis is meant as an expression."""
    return any(mark in EXPRESSION_MARKS for mark in text) or _parses(text)


def _parses(text: str) -> bool:
    try:
        parse(text)
    except ExpressionError:
        return False
    return True
