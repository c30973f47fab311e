"""A setting is declared once, as a field of a settings group: its variable, parser, default,
description and the processes that read it. Loading, `docs/configuration.md` and `.env.example`
all follow from that one declaration (`reading.py`, `reference.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, Literal, TypeVar, cast, dataclass_transform

from shared.settings.parsers import Parser

T = TypeVar("T")
Reader = Literal["gateway", "worker", "both"]


@dataclass(frozen=True, slots=True)
class Setting:
    """What the environment variable `env` means and how it is read."""

    env: str
    parse: Parser[Any]
    doc: str
    read_by: Reader
    shown_default: str | None
    """The default as the docs show it, when the field's own default is not what applies
    (computed from other settings, or chosen per process)."""
    example: str | None
    """For `.env.example`: a value to start from, for required settings."""
    hint: str
    """Why a required variable matters, said when it is missing."""


def setting(
    env: str,
    parse: Parser[T],
    *,
    default: T,
    doc: str,
    read_by: Reader = "both",
    shown_default: str | None = None,
    secret: bool = False,
    url: bool = False,
) -> T:
    """A field read from `env`; unset or empty means `default`."""
    declared = Setting(env, parse, doc, read_by, shown_default, None, "")
    meta = {"setting": declared, "secret": secret, "url": url}
    return field(default=default, metadata=meta)


def required(
    env: str,
    parse: Parser[T],
    *,
    doc: str,
    hint: str,
    example: str,
    read_by: Reader = "both",
    secret: bool = False,
    url: bool = False,
) -> T:
    """A field that must be set; a missing one is reported as `ENV is not set (hint)`."""
    declared = Setting(env, parse, doc, read_by, None, example, hint)
    return cast(T, field(metadata={"setting": declared, "secret": secret, "url": url}))


@dataclass_transform(frozen_default=True, field_specifiers=(setting, required, field))
def settings_group(cls: type[T]) -> type[T]:
    """A frozen settings dataclass whose fields are declared with `setting` / `required`."""
    return cast(Callable[[type[T]], type[T]], dataclass(frozen=True, slots=True, repr=False))(cls)


def declared(group: type[Any]) -> Iterator[tuple[Field[Any], Setting]]:
    """The group's fields that are read from the environment, in declaration order."""
    for each in fields(group):
        declaration = each.metadata.get("setting")
        if isinstance(declaration, Setting):
            yield each, declaration


def default_of(each: Field[Any]) -> object:
    """The field's default, or `MISSING` for a required one."""
    return each.default if each.default is not MISSING else MISSING
