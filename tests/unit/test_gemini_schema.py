"""Tool schemas at the model seam: Gemini's Schema subset, checked by the emulator's own rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.agent.gemini.schema import GeminiToolSchemas, to_gemini_schema
from services.gemini_emulator.schema_check import check_tools
from services.gemini_emulator.validation import validate_chat_request
from shared.tasks.operations.catalog import CATALOG


def as_tools(schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": f"tool_{n}", "parameters": schema}}
        for n, schema in enumerate(schemas)
    ]


def test_the_catalog_as_published_is_refused_by_the_schema_check() -> None:
    # What MCP and REST publish (full JSON Schema) would fail every turn on Gemini.
    problems = check_tools(as_tools([operation.schema for operation in CATALOG]))
    assert any('Unknown name "additionalProperties"' in p for p in problems)
    assert any("only 'enum' and 'date-time' are supported" in p for p in problems)


def test_the_seven_tool_schemas_pass_the_schema_check_once_translated() -> None:
    translated = [to_gemini_schema(operation.schema) for operation in CATALOG]
    assert len(translated) == 7
    assert check_tools(as_tools(translated)) == []


def test_the_catalog_keeps_its_full_json_schema() -> None:
    before = copy.deepcopy([operation.schema for operation in CATALOG])
    GeminiToolSchemas().tools(as_tools([operation.schema for operation in CATALOG]))
    assert [operation.schema for operation in CATALOG] == before
    assert all(schema["additionalProperties"] is False for schema in before)


def test_an_unsupported_format_moves_into_the_description() -> None:
    create = next(operation for operation in CATALOG if operation.name == "create_task")
    due_date = to_gemini_schema(create.schema)["properties"]["due_date"]
    assert due_date["type"] == "string"
    assert due_date["nullable"] is True
    assert "format" not in due_date
    assert "YYYY-MM-DD" in due_date["description"]
    assert "format: date" in due_date["description"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": ["integer", "null"]}, {"type": "integer", "nullable": True}),
        ({"const": "x"}, {"type": "string", "enum": ["x"]}),
        ({"type": "string", "format": "date-time"}, {"type": "string", "format": "date-time"}),
        ({"type": "integer", "format": "int64"}, {"type": "integer", "format": "int64"}),
        (
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "number", "description": "(exclusiveMinimum: 0)"},
        ),
        (
            {"$defs": {"P": {"type": "string", "enum": ["a"]}}, "$ref": "#/$defs/P"},
            {"type": "string", "enum": ["a"]},
        ),
        (
            {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        ),
    ],
)
def test_json_schema_keywords_become_their_schema_equivalents(
    schema: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert to_gemini_schema(schema) == expected


def test_a_typical_mcp_tool_schema_is_made_acceptable() -> None:
    # The shape of schemas MCP servers publish (zod / pydantic), with keywords Gemini refuses.
    mcp = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "format": "uri", "minLength": 1},
            "tags": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": {"type": "string"}},
                "uniqueItems": True,
            },
            "mode": {"anyOf": [{"const": "fast"}, {"const": "slow"}]},
        },
        "required": ["url", "missing"],
    }
    assert check_tools(as_tools([mcp]))
    translated = to_gemini_schema(mcp)
    assert check_tools(as_tools([translated])) == []
    assert translated["required"] == ["url"]
    assert "format: uri" in translated["properties"]["url"]["description"]


def test_each_schema_object_is_translated_once() -> None:
    schemas = GeminiToolSchemas()
    tools = as_tools([CATALOG[0].schema])
    first = schemas.tools(tools)
    second = schemas.tools(as_tools([CATALOG[0].schema]))
    assert isinstance(first, list) and isinstance(second, list)
    assert first[0]["function"]["parameters"] is second[0]["function"]["parameters"]


def test_schema_checks_are_on_unless_the_switch_turns_them_off() -> None:
    body = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": as_tools([operation.schema for operation in CATALOG]),
    }
    refused = validate_chat_request(body)
    assert refused is not None and 'Unknown name "additionalProperties"' in refused
    # Only for the benchmark's anchor, which sends OpenAI's strict schemas.
    assert validate_chat_request(body, check_schemas=False) is None
