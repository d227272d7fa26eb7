"""Hypothesis strategies from a tool's JSON Schema (the subset FastMCP emits: type, properties,
required, additionalProperties, anyOf, enum, const, items, maxItems, maxLength, minimum,
maximum, format).

hypothesis-jsonschema 0.23.1 (its latest release) no longer runs on current Hypothesis
(``AttributeError: 'many' object has no attribute 'more'``), so this small equivalent is kept
here. Values are drawn to be *valid per schema* most of the time and edge-heavy (empty, max
length, unicode, huge and negative numbers) so that the server's own rules are exercised.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30
) | st.sampled_from(["", " ", "session_0000000000000000", "admin_only", "a" * 64, "'; --"])


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    if kind == "object":
        return _object(schema)
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(items, max_size=min(int(schema.get("maxItems", 5)), 5))
    if kind == "string":
        limit = int(schema.get("maxLength", 200))
        return TEXT.filter(lambda s: len(s) <= limit) | st.just("x" * limit)
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        edges = st.sampled_from([0, 1, -1, 2**31, 2**62, -(2**62)])
        return st.integers(min_value=low, max_value=high) | edges
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=32) | st.sampled_from(
            [0, 0.5, -1, 1e12]
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return (
        st.none() | st.booleans() | st.integers() | TEXT | st.dictionaries(TEXT, TEXT, max_size=3)
    )


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    if not properties:
        return st.dictionaries(TEXT, TEXT | st.integers(), max_size=4)
    fixed = {name: from_schema(sub) for name, sub in properties.items() if name in required}
    optional = {name: from_schema(sub) for name, sub in properties.items() if name not in required}
    return st.fixed_dictionaries(fixed, optional=optional)
