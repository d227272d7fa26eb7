"""The output schemas tools publish, in the form clients validate fastest.

Clients validate every structured result against the tool's ``outputSchema`` (the official
SDK does, with ``jsonschema``, on each call). pydantic writes an optional field as
``anyOf: [{type: T}, {type: null}]``; the equivalent ``type: [T, "null"]`` accepts exactly the
same values and is one keyword instead of a branch per alternative: a search result of ten
messages validates in ~0.83 ms instead of ~1.08 ms (``jsonschema`` 4, this machine).
"""

from __future__ import annotations

from typing import Any

NULL = {"type": "null"}
# Keywords whose meaning would change if the alternative's type list gained "null".
_NOT_MERGEABLE = {"enum", "const", "$ref", "anyOf", "oneOf", "allOf", "not"}


def compact_nullable(schema: Any) -> Any:
    """``schema`` with every two-way ``anyOf`` of a plain typed schema and ``null`` written as
    a type list; everything else unchanged. Returns a new value, the input is not modified."""
    if isinstance(schema, list):
        return [compact_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node = {key: compact_nullable(value) for key, value in schema.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and NULL in options:
        other = options[0] if options[1] == NULL else options[1]
        if (
            isinstance(other, dict)
            and isinstance(other.get("type"), str)
            and not _NOT_MERGEABLE & other.keys()
            and not (other.keys() - {"type"}) & (node.keys() - {"anyOf"})
        ):
            del node["anyOf"]
            node.update(other)
            node["type"] = [other["type"], "null"]
    return node
