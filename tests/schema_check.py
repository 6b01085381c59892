"""A small OpenAPI 3 response validator, shared by the paper-exchange schema tests.

It resolves `$ref`, follows `allOf` / `oneOf` / `anyOf`, honours `nullable` (also beside a `$ref`),
checks that required fields are present and that each value has the declared JSON type
(string / number / integer / boolean / array / object) and, for strings with an `enum`, one of
its values -- recursively. Formats and extra fields are not checked.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["load_spec", "response_schema", "validate"]

SPEC_PATH = Path(__file__).resolve().parent / "data" / "kalshi-api" / "openapi.docs-reconstructed-v3.28.0.json"


@lru_cache(maxsize=1)
def load_spec(path: str = str(SPEC_PATH)) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _resolve(spec: dict, ref: str) -> dict:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def response_schema(spec: dict, path: str, method: str) -> dict:
    """The schema of the 2xx JSON response of `method path` (path as in the spec, with `{...}`)."""
    responses = spec["paths"][path][method.lower()]["responses"]
    code = next(code for code in responses if code.startswith("2"))
    response = responses[code]
    if "$ref" in response:
        response = _resolve(spec, response["$ref"])
    return response["content"]["application/json"]["schema"]


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def validate(spec: dict, schema: dict, value: Any, where: str = "$") -> list[str]:
    """Every problem found, as `"$.market.status: ..."` strings (empty when valid)."""
    nullable = bool(schema.get("nullable"))
    while "$ref" in schema:
        schema = _resolve(spec, schema["$ref"])
        nullable = nullable or bool(schema.get("nullable"))
    if value is None:
        return [] if nullable else [f"{where}: null but not nullable"]
    problems: list[str] = []
    for sub in schema.get("allOf", []):
        problems += validate(spec, sub, value, where)
    for combinator in ("oneOf", "anyOf"):
        options = schema.get(combinator)
        if options and all(validate(spec, sub, value, where) for sub in options):
            problems.append(f"{where}: matches none of {combinator}")
    kind = schema.get("type")
    if kind is None and ("properties" in schema or "required" in schema):
        kind = "object"
    if kind is None:
        return problems
    if not _TYPES[kind](value):
        return problems + [f"{where}: expected {kind}, got {type(value).__name__} {value!r:.40}"]
    if kind == "string" and "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in enum {schema['enum']}")
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            problems += validate(spec, schema["items"], item, f"{where}[{index}]")
    if kind == "object":
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}.{name}: required but missing")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                problems += validate(spec, sub, value[name], f"{where}.{name}")
    return problems
