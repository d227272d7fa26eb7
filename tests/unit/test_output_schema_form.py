"""Published output schemas write optional fields as type lists, accepting exactly what the
pydantic form accepts."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from shared_context.mcp.schemas import compact_nullable, omit_default_open

PYDANTIC_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "cursor": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "meta": {"anyOf": [{"type": "object", "additionalProperties": True}, {"type": "null"}]},
        "kind": {"anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}]},
        "ref": {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "items": {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
    },
    "$defs": {"X": {"type": "object", "properties": {"n": {"type": "integer"}}}},
}


def test_nullable_alternatives_become_type_lists_and_nothing_else_changes() -> None:
    compact = compact_nullable(PYDANTIC_FORM)
    props = compact["properties"]
    assert props["cursor"] == {"type": ["string", "null"], "default": None}
    assert props["meta"] == {"type": ["object", "null"], "additionalProperties": True}
    assert props["items"]["items"] == {"type": ["integer", "null"]}
    # An enum, a reference or a union of two real types keep their anyOf.
    for name in ("kind", "ref", "either"):
        assert props[name] == PYDANTIC_FORM["properties"][name]
    assert "anyOf" in PYDANTIC_FORM["properties"]["cursor"]  # the input is not modified


def test_both_forms_accept_and_refuse_the_same_values() -> None:
    before = Draft202012Validator(PYDANTIC_FORM)
    after = Draft202012Validator(compact_nullable(PYDANTIC_FORM))
    samples: list[Any] = [
        {},
        {"cursor": None, "meta": None, "items": [1, None]},
        {"cursor": "c", "meta": {"k": 1}, "kind": "a", "ref": {"n": 2}, "either": 3},
        {"cursor": 1},
        {"meta": "text"},
        {"items": ["x"]},
        {"kind": "c"},
        {"ref": {"n": "x"}},
        {"either": None},
    ]
    for sample in samples:
        assert before.is_valid(sample) == after.is_valid(sample), sample


OPEN_FORM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "message": {
            "type": "object",
            "additionalProperties": True,
            "properties": {"id": {"type": "integer"}, "metadata": {"type": ["object", "null"]}},
            "required": ["id"],
        },
        "closed": {"type": "object", "additionalProperties": False},
        "typed": {"type": "object", "additionalProperties": {"type": "integer"}},
        # A property named like the keyword, and data that looks like it, are kept.
        "additionalProperties": True,
        "kind": {"const": {"additionalProperties": True}},
    },
}


def test_default_open_objects_lose_only_the_keyword_they_do_not_need() -> None:
    published = omit_default_open(OPEN_FORM)
    props = published["properties"]
    assert "additionalProperties" not in published
    assert "additionalProperties" not in props["message"]
    assert props["closed"] == OPEN_FORM["properties"]["closed"]
    assert props["typed"] == OPEN_FORM["properties"]["typed"]
    assert props["additionalProperties"] is True
    assert props["kind"] == {"const": {"additionalProperties": True}}
    assert OPEN_FORM["additionalProperties"] is True  # the input is not modified


def test_open_and_default_forms_accept_and_refuse_the_same_values() -> None:
    before = Draft202012Validator(OPEN_FORM)
    after = Draft202012Validator(omit_default_open(OPEN_FORM))
    samples: list[Any] = [
        {},
        {"extra": 1, "message": {"id": 1, "more": "x", "metadata": None}},
        {"message": {"id": "x"}},
        {"message": {"more": 1}},
        {"closed": {}},
        {"closed": {"a": 1}},
        {"typed": {"a": 1}},
        {"typed": {"a": "x"}},
        {"kind": {"additionalProperties": True}},
        {"kind": {}},
        [],
    ]
    for sample in samples:
        assert before.is_valid(sample) == after.is_valid(sample), sample


def test_a_schema_with_unevaluated_properties_is_left_as_it_is() -> None:
    """There ``additionalProperties: true`` marks extra properties as evaluated: removing it
    would refuse objects the schema accepts."""
    schema: dict[str, Any] = {
        "allOf": [{"type": "object", "additionalProperties": True}],
        "unevaluatedProperties": False,
    }
    assert omit_default_open(schema) == schema
    assert Draft202012Validator(schema).is_valid({"extra": 1})
    without = {"allOf": [{"type": "object"}], "unevaluatedProperties": False}
    assert not Draft202012Validator(without).is_valid({"extra": 1})  # why it is left alone
