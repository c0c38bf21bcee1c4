"""The README is the contract: every declared setting and registered service appears in it."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import ascep
from ascep.common.config import COMMON_SETTINGS, Setting
from ascep.service_registry import service_registry

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def declared_settings() -> list[Setting]:
    settings = list(COMMON_SETTINGS)
    for module in pkgutil.iter_modules(ascep.__path__):
        if not module.ispkg:
            continue
        try:
            service_settings = importlib.import_module(f"ascep.{module.name}.settings")
        except ModuleNotFoundError:
            continue
        settings.extend(getattr(service_settings, "SETTINGS", ()))
    return settings


@pytest.mark.parametrize("setting", declared_settings(), ids=lambda s: s.name)
def test_every_setting_is_documented(setting: Setting) -> None:
    assert f"`{setting.name}`" in README


@pytest.mark.parametrize("definition", list(service_registry), ids=lambda d: d.name)
def test_every_registered_service_is_documented(definition) -> None:
    assert f"`{definition.name}`" in README
    assert f"`{definition.url_variable}`" in README
    for endpoint in definition.endpoints:
        assert f"`{endpoint}`" in README


def test_the_two_setup_commands_are_the_ones_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[3] / ".ci" / "run").read_text()
    assert "./ascep run" in README
    assert "./ascep test" in README
    assert ci.rstrip().endswith("./ascep test")
