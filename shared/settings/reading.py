"""Reads settings groups from a mapping, collecting every problem instead of stopping at one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING
from typing import Any, TypeVar

from shared.settings.declaration import Setting, declared
from shared.settings.parsers import Refused

G = TypeVar("G")


class SettingsError(ValueError):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class EnvReader:
    """Typed values from `environ`; each problem becomes one line in `problems`."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        """The variable's text; unset and empty (or blank) are the same: not set."""
        value = self.environ.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    def group(self, group: type[G]) -> G:
        """An instance of `group` with each declared field read from the environment."""
        values: dict[str, Any] = {}
        for each, declaration in declared(group):
            value = self._read(declaration, each.default)
            if value is not MISSING:
                values[each.name] = value
        if any(name not in values for name in _required(group)):
            return _placeholder(group, values)
        return group(**values)

    def _read(self, declaration: Setting, default: object) -> object:
        raw = self.raw(declaration.env)
        if raw is None:
            if default is MISSING:
                self.problems.append(f"{declaration.env} is not set ({declaration.hint})")
            return default
        try:
            return declaration.parse(raw)
        except Refused as refused:
            shown = f"={raw!r}" if refused.show_value else ""
            self.problems.append(f"{declaration.env}{shown} {refused.message}")
        except ValueError:
            self.problems.append(f"{declaration.env}={raw!r} is not {declaration.parse.what}")
        return default


def _required(group: type[Any]) -> list[str]:
    return [each.name for each, _ in declared(group) if each.default is MISSING]


def _placeholder(group: type[G], values: dict[str, Any]) -> G:
    """An instance whose missing required fields are empty; only built when loading has
    already failed, so the other groups' problems can still be collected."""
    return group(**{**dict.fromkeys(_required(group), ""), **values})
