"""Tool parameter schemas in the subset of OpenAPI's Schema object that Gemini documents.

The task catalog publishes full JSON Schema (pydantic's `model_json_schema()`), which MCP and
REST clients keep. Gemini's function declarations document only a subset
(https://ai.google.dev/api/caching#Schema) and answer 400 to the rest: "Unknown name
\\"additionalProperties\\" ... Cannot find field", and for string formats other than `enum` and
`date-time` "only 'enum' and 'date-time' are supported for STRING type" (see docs/gemini.md).
Every request carries every tool, so one such keyword would fail every turn. Each tool's schema
is translated here, at the model seam, keeping what the model needs to call it well:

- `$ref` into `$defs` is inlined; `const` becomes a one-value `enum`; `oneOf` becomes `anyOf`;
- `anyOf [X, {"type": "null"}]` and `type: [X, "null"]` become `X` with `nullable: true`;
- a string `format` Gemini does not take, and constraints it has no field for (`multipleOf`,
  `exclusiveMinimum`...), move into the description, so the model still reads them;
- any other keyword outside the subset (`additionalProperties`, `$schema`, `examples`...) is
  dropped: the tool checks its arguments itself, and a bad call comes back as an error result.
"""

from __future__ import annotations

import json
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
"""The fields of Gemini's Schema object (its API reference)."""

TYPES: Final = frozenset({"string", "number", "integer", "boolean", "array", "object"})
STRING_FORMATS: Final = frozenset({"enum", "date-time"})
NUMBER_FORMATS: Final = frozenset({"float", "double", "int32", "int64"})
DESCRIBED_CONSTRAINTS: Final = (
    "multipleOf", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems", "const",
)  # fmt: skip
"""JSON Schema constraints with no Schema field, worth telling the model in words."""

_MAX_DEPTH = 32


def to_gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` (JSON Schema) as a Schema object Gemini accepts; the input is not changed."""
    defs = schema.get("$defs")
    return _translate(schema, defs if isinstance(defs, Mapping) else {}, 0)


def _translate(schema: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        return {"type": "object", "description": "(nested too deeply to describe)"}
    schema = _resolved(schema, defs)
    notes: list[str] = []
    out: dict[str, Any] = {}
    nullable = False

    kind = schema.get("type")
    if isinstance(kind, list):
        nullable = "null" in kind
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
        if len(kinds) > 1:
            notes.append(f"one of the types {', '.join(map(str, kinds))}")
    if isinstance(kind, str) and kind in TYPES:
        out["type"] = kind

    alternatives = schema.get("anyOf", schema.get("oneOf"))
    if isinstance(alternatives, list):
        options = [a for a in alternatives if isinstance(a, Mapping)]
        non_null = [a for a in options if _resolved(a, defs).get("type") != "null"]
        nullable = nullable or len(non_null) < len(options)
        if len(non_null) == 1:
            inner = _translate(non_null[0], defs, depth + 1)
            inner_description = inner.pop("description", None)
            out = {**inner, **out}
            if inner_description:
                notes.insert(0, inner_description)
        elif non_null:
            out["anyOf"] = [_translate(a, defs, depth + 1) for a in non_null]
    if nullable:
        out["nullable"] = True

    for key in ("title", "description", "pattern", "default", "example", "propertyOrdering"):
        if key in schema:
            out[key] = schema[key]
    for key in ("minItems", "maxItems", "minProperties", "maxProperties", "minLength",
                "maxLength", "minimum", "maximum"):  # fmt: skip
        if isinstance(schema.get(key), int | float) and not isinstance(schema[key], bool):
            out[key] = schema[key]
    if "const" in schema:
        out["enum"] = [schema["const"]]
        out.setdefault("type", "string")
    elif isinstance(schema.get("enum"), list):
        # Gemini's enum is of strings; a non-string choice is kept in words.
        values = schema["enum"]
        if all(isinstance(v, str) for v in values):
            out["enum"] = list(values)
        else:
            notes.append(f"one of {json.dumps(values)}")

    fmt = schema.get("format")
    if isinstance(fmt, str):
        allowed = STRING_FORMATS if out.get("type") == "string" else NUMBER_FORMATS
        if fmt in allowed:
            out["format"] = fmt
        else:
            notes.append(f"format: {fmt}")
    notes += [f"{key}: {json.dumps(schema[key])}" for key in DESCRIBED_CONSTRAINTS[:-1]
              if key in schema]  # fmt: skip

    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        out["properties"] = {
            str(name): _translate(value, defs, depth + 1)
            for name, value in properties.items()
            if isinstance(value, Mapping)
        }
        out.setdefault("type", "object")
        required = schema.get("required")
        if isinstance(required, list):
            out["required"] = [name for name in required if name in out["properties"]]
    items = schema.get("items")
    if isinstance(items, Mapping):
        out["items"] = _translate(items, defs, depth + 1)
        out.setdefault("type", "array")

    if notes:
        described = out.get("description")
        suffix = f"({'; '.join(note.strip('()') for note in notes)})"
        out["description"] = f"{described} {suffix}" if described else suffix
    return out


def _resolved(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """`schema` with a local `$ref` ("#/$defs/Name") replaced by its definition."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return schema
    target = defs.get(ref.removeprefix("#/$defs/"))
    if not isinstance(target, Mapping):
        return {k: v for k, v in schema.items() if k != "$ref"}
    # Keywords next to the `$ref` (a description, usually) win over the definition's.
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}


class GeminiToolSchemas:
    """Translates a request's tools, each schema once: the SDK sends the same
    `params_json_schema` object on every request. One per worker (held by the model seam)."""

    def __init__(self, max_entries: int = 256) -> None:
        # Each entry holds the schema object itself, so its id is not reused while cached.
        self._cache: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}
        self._max_entries = max_entries

    def tools(self, tools: object) -> object:
        """`tools` with each function's `parameters` translated; other values as given."""
        if not isinstance(tools, list):
            return tools
        translated = []
        for tool in tools:
            function = tool.get("function") if isinstance(tool, Mapping) else None
            parameters = function.get("parameters") if isinstance(function, Mapping) else None
            if isinstance(function, Mapping) and isinstance(parameters, Mapping):
                tool = {**tool, "function": {**function, "parameters": self._schema(parameters)}}
            translated.append(tool)
        return translated

    def _schema(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        hit = self._cache.get(id(parameters))
        if hit is not None and hit[0] is parameters:
            return hit[1]
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        translated = to_gemini_schema(parameters)
        self._cache[id(parameters)] = (parameters, translated)
        return translated
