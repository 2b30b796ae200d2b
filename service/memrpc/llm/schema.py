"""The JSON schemas a model's replies must follow, and the validator that
holds every reply to its schema: a model's output is never trusted, whether
or not its server enforced the schema (`response_format`).

The validator knows the subset of JSON Schema the schemas here use: `type`
(object, array, string, integer), `properties`, `required`,
`additionalProperties: false`, `items`, `maxItems`, `minLength`,
`maxLength`, `minimum`, `maximum`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
}


def problem(value: Any, schema: Schema, path: str = "$") -> str | None:
    """What is wrong with `value` against `schema` (the first thing found,
    with its JSON path), or None when it follows it."""
    kind = schema["type"]
    if isinstance(value, bool) or not isinstance(value, _TYPES[kind]):
        return f"{path} is not of type {kind}"
    if isinstance(value, dict):
        return _object_problem(value, schema, path)
    if isinstance(value, list):
        return _array_problem(value, schema, path)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return f"{path} is shorter than {schema['minLength']} characters"
        if len(value) > schema.get("maxLength", len(value)):
            return f"{path} is longer than {schema['maxLength']} characters"
        return None
    if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        return f"{path} is out of range"
    return None


def _object_problem(value: dict[str, Any], schema: Schema, path: str) -> str | None:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            return f"{path}.{name} is missing"
    if schema.get("additionalProperties", True) is False:
        extra = sorted(set(value) - set(properties))
        if extra:
            return f"{path}.{extra[0]} is not expected"
    for name, sub in properties.items():
        if name in value:
            found = problem(value[name], sub, f"{path}.{name}")
            if found:
                return found
    return None


def _array_problem(value: list[Any], schema: Schema, path: str) -> str | None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return f"{path} has more than {schema['maxItems']} items"
    for i, item in enumerate(value):
        found = problem(item, schema["items"], f"{path}[{i}]")
        if found:
            return found
    return None


def object_of(name: str, schema: Schema) -> Schema:
    """An object holding one property, `name`, of `schema`."""
    return {
        "type": "object",
        "properties": {name: schema},
        "required": [name],
        "additionalProperties": False,
    }
