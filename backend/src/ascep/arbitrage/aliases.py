"""The original ASCEP names of the live options, accepted and answered beside ours.

The original ``GET/POST /api/arbitrage/config`` spoke of ``cross_currency_threshold`` (the
smallest spread, in %, of a direct opportunity), ``triangular_threshold`` (the same for
triangles) and ``max_signals_per_cycle``; its dashboard's sliders read and write those keys.
Each is an *alias*: a name for one of our options (or one key of one), never a second value.
``GET /config`` answers both names; an update may use either; one body giving an alias and its
option with different values is refused naming both, since nobody can say which one was meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.arbitrage.options import ConfigValidationError, Number, NumberMap, declared


@dataclass(frozen=True)
class Alias:
    """``name`` stands for ``option`` (and, for an object option, its ``key``)."""

    name: str
    option: str
    key: str | None = None

    @property
    def target(self) -> str:
        return self.option if self.key is None else f"{self.option}.{self.key}"


ALIASES: tuple[Alias, ...] = (
    Alias("cross_currency_threshold", "min_profit_percentage", "direct"),
    Alias("triangular_threshold", "min_profit_percentage", "triangular"),
    Alias("max_signals_per_cycle", "max_new_signals_per_tick"),
)


class AliasConflict(ConfigValidationError):
    """One update names an option twice, by its alias and by its own name, with two values."""

    def __init__(self, alias: Alias, alias_value: Any, option_value: Any) -> None:
        super().__init__(
            alias.name,
            f"conflicts with {alias.target} in the same update ({alias_value!r} vs {option_value!r}); "
            f"{alias.name} is another name for {alias.target}: give one of them",
            unknown=True,  # a 400, like any key that cannot be applied as written
        )
        self.fields = (alias.name, alias.target)


def with_aliases(config: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /config``: every option, then every alias with its option's value."""
    out = dict(config)
    for alias in ALIASES:
        value = config[alias.option]
        out[alias.name] = value[alias.key] if alias.key is not None else value
    return out


def _option_value(update: Mapping[str, Any], alias: Alias) -> tuple[bool, Any]:
    """Whether ``update`` gives ``alias``'s target itself, and the value it gives it."""
    if alias.option not in update:
        return False, None
    given = update[alias.option]
    if alias.key is None:
        return True, given
    if isinstance(given, Mapping):
        return (alias.key in given), given.get(alias.key)
    return True, given  # one number for every key ("one for all")


def resolve_aliases(update: Any, options: Any) -> Any:
    """``update`` with each alias replaced by its option (``options``: the config, for the kinds).

    An alias's value is checked under the alias's own name first, so an error names the key the
    client sent. Raises :class:`AliasConflict` when an alias and its option disagree.
    """
    if not isinstance(update, Mapping) or not any(alias.name in update for alias in ALIASES):
        return update
    specs = declared(options)
    out = {k: v for k, v in update.items() if k not in {a.name for a in ALIASES}}
    for alias in ALIASES:
        if alias.name not in update:
            continue
        value = update[alias.name]
        kind = specs[alias.option].kind
        number = kind.value if isinstance(kind, NumberMap) else kind
        assert isinstance(number, Number)  # every alias names a number (or a map of numbers)
        number.parse(alias.name, value)
        given, current = _option_value(update, alias)
        if given and current != value:
            raise AliasConflict(alias, value, current)
        if given:
            continue
        if alias.key is None:
            out[alias.option] = value
        else:
            merged = out.get(alias.option)
            out[alias.option] = {**(merged if isinstance(merged, Mapping) else {}), alias.key: value}
    return out


def with_alias_schemas(schema: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """``schema`` (an options schema) with each alias documented as its target is.

    ``complete``: the ``GET`` answer, where every alias is present; an update may give any.
    """
    properties = dict(schema["properties"])
    for alias in ALIASES:
        target = properties[alias.option]
        if alias.key is not None:
            target = next(
                option["properties"][alias.key]
                for option in target.get("anyOf", [target])
                if option.get("type") == "object"
            )
        properties[alias.name] = {
            **{k: v for k, v in target.items() if k not in ("description", "default")},
            "description": f"The original ASCEP name of `{alias.target}` (the same value).",
        }
    out = {**schema, "properties": properties}
    if complete:
        out["required"] = [*schema.get("required", ()), *(a.name for a in ALIASES)]
    return out
