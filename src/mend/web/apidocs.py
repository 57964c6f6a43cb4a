"""The API's reference page, read from its OpenAPI document.

Mend renders its own page rather than Swagger UI: an HTML page under the site's layout and its
Content-Security-Policy, readable with a screen reader or a keyboard, with nothing loaded from
elsewhere. Tools read the same document at /api/v1/openapi.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

Schema = Mapping[str, Any]
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class TypeText:
    """A value's type in words, e.g. "list of ClientOut or null"; ``name`` links to a schema when ``ref``."""

    prefix: str = ""
    name: str = "any"
    ref: bool = False
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeText
    required: bool
    description: str
    where: str = ""  # a parameter's place: path or query


@dataclass(frozen=True, slots=True)
class Response:
    status: str
    description: str
    type: TypeText | None


@dataclass(frozen=True, slots=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    body: TypeText | None
    responses: list[Response]
    authenticated: bool


@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SchemaDoc:
    name: str
    description: str
    fields: list[Field]
    type: TypeText | None  # for a schema that is not an object (an enum, a list)


@dataclass(frozen=True, slots=True)
class ApiDoc:
    title: str
    version: str
    description: str
    tags: list[Tag]
    schemas: list[SchemaDoc]


def type_text(schema: Schema) -> TypeText:
    if "$ref" in schema:
        return TypeText(name=str(schema["$ref"]).rsplit("/", 1)[-1], ref=True)
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        kinds = [option for option in options if option.get("type") != "null"]
        nullable = len(kinds) < len(options)
        if len(kinds) == 1:
            inner = type_text(kinds[0])
        else:
            inner = TypeText(name=" or ".join(_plain(type_text(kind)) for kind in kinds))
        return replace(inner, suffix=inner.suffix + " or null") if nullable else inner
    if "enum" in schema:
        return TypeText(name="one of " + ", ".join(str(value) for value in schema["enum"]))
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            return TypeText(name="list of " + ", ".join(_plain(type_text(item)) for item in schema["prefixItems"]))
        inner = type_text(schema.get("items", {}))
        return replace(inner, prefix="list of " + inner.prefix)
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        inner = type_text(schema["additionalProperties"])
        return replace(inner, prefix="map of names to " + inner.prefix)
    if isinstance(kind, str):
        detail = [schema["format"]] if "format" in schema else []
        if "minimum" in schema:
            detail.append(f"at least {schema['minimum']}")
        if "maximum" in schema:
            detail.append(f"at most {schema['maximum']}")
        return TypeText(name=kind + (f" ({', '.join(detail)})" if detail else ""))
    return TypeText()


def _plain(text: TypeText) -> str:
    return f"{text.prefix}{text.name}{text.suffix}"


def _json_type(content: Mapping[str, Any] | None) -> TypeText | None:
    media = (content or {}).get("application/json")
    return type_text(media["schema"]) if media and "schema" in media else None


def _description(schema: Schema) -> str:
    text = schema.get("description", "")
    if not text:
        for option in schema.get("anyOf", ()):
            text = option.get("description", "")
            if text:
                break
    return str(text)


def _operation(path: str, method: str, spec: Schema) -> Operation:
    parameters = [
        Field(
            name=param["name"],
            type=type_text(param.get("schema", {})),
            required=bool(param.get("required")),
            description=str(param.get("description") or _description(param.get("schema", {}))),
            where=param.get("in", ""),
        )
        for param in spec.get("parameters", ())
    ]
    responses = [
        Response(status=status, description=str(answer.get("description", "")), type=_json_type(answer.get("content")))
        for status, answer in sorted(spec.get("responses", {}).items())
    ]
    return Operation(
        anchor=str(spec.get("operationId") or f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=str(spec.get("summary", "")),
        description=str(spec.get("description", "")),
        parameters=parameters,
        body=_json_type(spec.get("requestBody", {}).get("content")),
        responses=responses,
        authenticated=bool(spec.get("security")),
    )


def _schema(name: str, schema: Schema) -> SchemaDoc:
    required = set(schema.get("required", ()))
    fields = [
        Field(name=key, type=type_text(prop), required=key in required, description=_description(prop))
        for key, prop in schema.get("properties", {}).items()
    ]
    plain = None if fields or schema.get("type") == "object" else type_text(schema)
    return SchemaDoc(name=name, description=str(schema.get("description", "")), fields=fields, type=plain)


def api_doc(document: Schema) -> ApiDoc:
    """The page's contents: operations grouped by tag (in the document's order), then every schema."""
    tags: dict[str, Tag] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                spec = item[method]
                tag = (spec.get("tags") or ["other"])[0]
                tags.setdefault(tag, Tag(tag)).operations.append(_operation(path, method, spec))
    info = document.get("info", {})
    schemas = document.get("components", {}).get("schemas", {})
    return ApiDoc(
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        description=str(info.get("description", "")),
        tags=list(tags.values()),
        schemas=[_schema(name, schemas[name]) for name in sorted(schemas)],
    )
