"""Published output schemas write optional fields as type lists, accepting exactly what the
pydantic form accepts."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from shared_context.mcp.schemas import compact_nullable

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
