"""The output schemas tools publish, in the form clients validate fastest.

Clients validate every structured result against the tool's ``outputSchema`` (the official
SDK does, with ``jsonschema``, on each call). pydantic writes an optional field as
``anyOf: [{type: T}, {type: null}]``; the equivalent ``type: [T, "null"]`` accepts exactly the
same values and is one keyword instead of a branch per alternative: a search result of ten
messages validates in ~0.83 ms instead of ~1.08 ms (``jsonschema`` 4, this machine).

``additionalProperties: true`` is the default of JSON Schema: an object schema without it
accepts exactly the same objects (unless ``unevaluatedProperties`` applies, for which the
keyword marks extra properties as evaluated: a schema using it anywhere is left as it is), and
SPEC §14 (fields may be added) still holds. Written out, ``jsonschema`` walks every key of every
object against it: a page of 50 messages validated in 1.87 ms with it and 1.69 ms without
(``omit_default_open``).
"""

from __future__ import annotations

import copy
import json
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


#: Keywords whose value maps names (not keywords) to subschemas, and keywords holding data.
_NAMED = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_DATA = {"enum", "const", "default", "examples"}


def omit_default_open(schema: Any) -> Any:
    """``schema`` without ``additionalProperties: true`` anywhere (the default: the same
    objects are accepted); everything else unchanged, the values of data keywords (``enum``,
    ``const``, ``default``, ``examples``) and a property that is *named*
    ``additionalProperties`` included. A schema with ``unevaluatedProperties`` anywhere is
    returned unchanged (there the keyword is not inert). Returns a new value, the input is not
    modified."""
    if "unevaluatedProperties" in json.dumps(schema):  # anywhere, even as a name: kept as is
        return copy.deepcopy(schema)
    return _without_default_open(schema)


def _without_default_open(schema: Any, *, names: bool = False) -> Any:
    if isinstance(schema, list):
        return [_without_default_open(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if names:  # property name -> subschema
        return {name: _without_default_open(sub) for name, sub in schema.items()}
    return {
        key: value if key in _DATA else _without_default_open(value, names=key in _NAMED)
        for key, value in schema.items()
        if not (key == "additionalProperties" and value is True)
    }


def published(schema: Any) -> Any:
    """The form a tool's output schema is published in: both rewrites above."""
    return omit_default_open(compact_nullable(schema))
