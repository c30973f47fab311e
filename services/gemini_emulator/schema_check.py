"""Checking tool schemas against the Schema object Gemini documents, with Gemini's 400 wording.

Gemini turns each OpenAI-style tool into a function declaration whose `parameters` is a Schema
(https://ai.google.dev/api/caching#Schema): a subset of OpenAPI 3.0. A keyword outside it is
"Unknown name ... Cannot find field"; a string `format` other than `enum` and `date-time` is
"only 'enum' and 'date-time' are supported for STRING type"; a list as `type` is "Proto field is
not repeating". These are the messages users of other SDKs report (docs/gemini.md links them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

SCHEMA_FIELDS: Final = frozenset(
    {
        "type", "format", "title", "description", "nullable", "enum", "items", "properties",
        "required", "minItems", "maxItems", "minProperties", "maxProperties", "minLength",
        "maxLength", "pattern", "minimum", "maximum", "anyOf", "default", "example",
        "propertyOrdering",
    }
)  # fmt: skip
TYPES: Final = frozenset(
    {"string", "number", "integer", "boolean", "array", "object", "null"}
    | {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
)
STRING_FORMATS: Final = frozenset({"enum", "date-time"})
FUNCTION_FIELDS: Final = frozenset({"name", "description", "parameters", "strict"})
_MAX_DEPTH = 64


def check_tools(tools: Any) -> list[str]:
    """Gemini's 400 messages for `tools` (a request's list), empty when every tool passes."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        return ['Invalid value at "tools": expected a list.']
    problems: list[str] = []
    for index, tool in enumerate(tools):
        where = f"tools[0].function_declarations[{index}]"
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            problems.append(f"* {where}: only tools of type 'function' are supported.")
            continue
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            problems.append(f"* GenerateContentRequest.{where}.name: Name is required.")
            continue
        problems += [_unknown(name, where) for name in function if name not in FUNCTION_FIELDS]
        parameters = function.get("parameters")
        if parameters is not None:
            if not isinstance(parameters, Mapping):
                problems.append(f"* GenerateContentRequest.{where}.parameters: expected an object.")
            else:
                problems += _check_schema(parameters, f"{where}.parameters", 0)
    return problems


def _check_schema(schema: Mapping[str, Any], where: str, depth: int) -> list[str]:
    if depth > _MAX_DEPTH:
        return [f"* GenerateContentRequest.{where}: schema nested too deeply."]
    problems = [_unknown(name, where) for name in schema if name not in SCHEMA_FIELDS]
    kind = schema.get("type")
    if isinstance(kind, list):
        problems.append(
            f"Invalid JSON payload received. Unknown name \"type\" at '{where}': "
            "Proto field is not repeating, cannot start list."
        )
    elif kind is not None and kind not in TYPES:
        problems.append(f"Invalid value at '{where}.type' (type.googleapis.com/Type), {kind!r}")
    fmt = schema.get("format")
    if isinstance(kind, str) and kind.lower() == "string" and fmt not in (None, *STRING_FORMATS):
        problems.append(
            f"* GenerateContentRequest.{where}.format: only 'enum' and 'date-time' are "
            "supported for STRING type"
        )
    enum = schema.get("enum")
    if enum is not None and not (isinstance(enum, list) and all(isinstance(v, str) for v in enum)):
        problems.append(f"Invalid value at '{where}.enum': enum values must be strings.")
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for position, (name, value) in enumerate(properties.items()):
            if isinstance(value, Mapping):
                problems += _check_schema(value, f"{where}.properties[{position}].value", depth + 1)
            else:
                problems.append(
                    f"Invalid value at '{where}.properties[{name}]': expected a Schema."
                )
    items = schema.get("items")
    if isinstance(items, Mapping):
        problems += _check_schema(items, f"{where}.items", depth + 1)
    alternatives = schema.get("anyOf")
    if isinstance(alternatives, list):
        for position, alternative in enumerate(alternatives):
            if isinstance(alternative, Mapping):
                problems += _check_schema(alternative, f"{where}.any_of[{position}]", depth + 1)
    return problems


def _unknown(name: str, where: str) -> str:
    return (
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    )
