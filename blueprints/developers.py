"""The integrator page (/developers), rendered on the server from the OpenAPI document.

Endpoints, fields, answers and error bodies are read from ``blueprints.api.openapi.document()``
so the page cannot drift from the API; the curl and Python examples are built from the
document's own request examples and point at the instance that serves the page. No JavaScript
viewer: it is plain HTML, translated like every page (the document's own descriptions stay in
English).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from limits import parse_many

from .api.openapi import document
from .ext import db
from .i18n import current_language

bp = Blueprint("developers", __name__)

# The API's changes, newest first. Add an entry with every change to the API (DESIGN 3: the
# contracts change only on purpose, and say so).
CHANGELOG: list[tuple[str, date, tuple[object, ...]]] = [
    ("1.0.0", date(2026, 11, 21), (
        _l("POST /api/v1/verify verifies one invoice, from its fields or from the text of its "
           "QR code."),
        _l("GET /api/v1/openapi.json describes the API as an OpenAPI 3.1 document."),
        _l("POST /api/v1/decode reads the QR codes in a photo, PDF or OFD e-invoice."),
        _l("POST /api/v1/batch and GET /api/v1/batch/<id> check thousands of invoices at once, "
           "with an API token."),
    )),
]

# What an API answers on /api/ paths whatever the endpoint (blueprints/errors.py).
COMMON_ERRORS = (
    (400, _l("The request could not be understood.")),
    (404, _l("There is no endpoint at this address.")),
    (405, _l("The endpoint does not accept this HTTP method.")),
    (413, _l("The body is larger than the upload limit.")),
    (429, _l("This client sent too many requests; wait for the seconds in Retry-After.")),
    (500, _l("Something went wrong on our side; nothing was stored. Try again.")),
)

TOKEN_VARIABLE = "YANPIAO_TOKEN"
# The file an upload example sends, by the first media type the endpoint takes that has one.
EXAMPLE_FILES = {"text/csv": "invoices.csv", "image/": "invoice.png", "application/pdf": "invoice.pdf"}
MAX_DEPTH = 6


# --- reading the OpenAPI document ---------------------------------------------------------


def resolve(doc: dict, schema: Any, depth: int = 0) -> dict:
    """A schema with its ``$ref`` followed (one level; nested ones as they are reached)."""
    while isinstance(schema, dict) and "$ref" in schema and depth <= MAX_DEPTH:
        target: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema, depth = target, depth + 1
    return schema if isinstance(schema, dict) else {}


def type_label(doc: dict, schema: dict) -> str:
    schema = resolve(doc, schema)
    kind = schema.get("type", "object" if "properties" in schema else "")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return f"array of {type_label(doc, schema.get('items', {}))}"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(type_label(doc, s) for s in schema.get("oneOf", schema.get("anyOf")))
    return kind or "any"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    description: str
    values: tuple[str, ...] = ()


def schema_fields(
    doc: dict, schema: Any, prefix: str = "", depth: int = 0
) -> list[Field]:
    """Every field of a JSON body, nested objects flattened as ``seller.name``, ``items[].tax``."""
    schema = resolve(doc, schema)
    if depth > MAX_DEPTH:
        return []
    fields: list[Field] = []
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        sub = resolve(doc, sub)
        path = f"{prefix}{name}"
        fields.append(Field(
            name=path, type=type_label(doc, sub), required=name in required,
            description=sub.get("description", ""),
            values=tuple("null" if v is None else str(v) for v in sub.get("enum", ())),
        ))
        if sub.get("type") == "array" and resolve(doc, sub.get("items")).get("properties"):
            fields.extend(schema_fields(doc, sub["items"], f"{path}[].", depth + 1))
        elif sub.get("properties"):
            fields.extend(schema_fields(doc, sub, f"{path}.", depth + 1))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        fields.append(Field(
            name=f"{prefix}<field>", type=type_label(doc, extra), required=False,
            description=schema.get("description", ""),
        ))
    return fields


def example_value(doc: dict, schema: Any, depth: int = 0) -> Any:
    """A value of the schema's shape, for showing what a body looks like."""
    schema = resolve(doc, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if depth > MAX_DEPTH:
        return None
    if schema.get("oneOf") or schema.get("anyOf"):
        return example_value(doc, (schema.get("oneOf") or schema.get("anyOf"))[0], depth + 1)
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):  # ["string", "null"]: show the value that is not null
        kind = next((k for k in kind if k != "null"), "null")
        if kind == "null":
            return None
    if kind == "object":
        value = {name: example_value(doc, sub, depth + 1)
                 for name, sub in schema.get("properties", {}).items()}
        if isinstance(schema.get("additionalProperties"), dict) and not value:
            value = {"<field>": example_value(doc, schema["additionalProperties"], depth + 1)}
        return value
    if kind == "array":
        return [example_value(doc, schema.get("items", {}), depth + 1)]
    return {"integer": 1, "number": 1.5, "boolean": True}.get(
        kind, "2024-10-25" if schema.get("format") == "date" else "…"
    )


# --- examples -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    title: str
    curl: str
    python: str
    expect: str = ""  # what this example answers on this instance, when known
    # Environment variables to set first (path parameters): (variable, parameter).
    variables: tuple[tuple[str, str], ...] = ()


def path_variables(url: str) -> dict[str, str]:
    """``{job_id}`` in a URL template → the environment variable ``JOB_ID`` that fills it."""
    names = []
    for part in url.split("{")[1:]:
        names.append(part.split("}")[0])
    return {name: name.upper() for name in names}


def _shell_url(url: str) -> str:
    variables = path_variables(url)
    if not variables:
        return shlex.quote(url)
    for name, variable in variables.items():
        url = url.replace("{" + name + "}", "${" + variable + "}")
    # Double quotes, so that the shell fills in the variables.
    return '"' + "".join("\\" + c if c in '"\\`' else c for c in url) + '"'


def curl_command(method: str, url: str, headers: dict[str, str], *, body: Any = None,
                 files: dict[str, str] | None = None, token: bool = False) -> str:
    lines = [f"curl -sS -i -X {method} {_shell_url(url)}"]
    if token:
        # Double quotes: the shell fills in the token from the environment.
        lines.append(f'-H "Authorization: Bearer ${TOKEN_VARIABLE}"')
    for name, value in headers.items():
        lines.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if body is not None:
        lines.append(f"-H {shlex.quote('Content-Type: application/json')}")
        lines.append(f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}")
    for name, filename in (files or {}).items():
        lines.append(f"-F {shlex.quote(f'{name}=@{filename}')}")
    return " \\\n  ".join(lines)


def python_literal(value: Any) -> str:
    """Python source for a JSON value, in the double quotes people write."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, str):
        # A JSON string literal is a Python one too (same escapes).
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def python_snippet(method: str, url: str, headers: dict[str, str], *, body: Any = None,
                   files: dict[str, str] | None = None, token: bool = False,
                   may_be_empty: bool = False) -> str:
    """``may_be_empty``: some answer has no body (204), which ``response.json()`` cannot read."""
    lines = []
    variables = path_variables(url)
    if token or variables:
        lines.append("import os\n")
    lines.append("import requests\n")
    for name, variable in variables.items():
        lines.append(f"{name} = os.environ[{python_literal(variable)}]")
    if variables:
        lines.append("")
    header_items = [f"{python_literal(name)}: {python_literal(value)}"
                    for name, value in headers.items()]
    if token:
        header_items.insert(
            0, f'"Authorization": "Bearer " + os.environ[{python_literal(TOKEN_VARIABLE)}]'
        )
    arguments = ["f" + python_literal(url) if variables else python_literal(url)]
    if body is not None:
        arguments.append(f"json={python_literal(body)}")
    if files:
        arguments.append("files={" + ", ".join(
            f'{python_literal(name)}: open({python_literal(filename)}, "rb")'
            for name, filename in files.items()) + "}")
    if header_items:
        arguments.append("headers={" + ", ".join(header_items) + "}")
    arguments.append("timeout=30")
    lines.append(f"response = requests.{method.lower()}(")
    lines.extend(f"    {argument}," for argument in arguments)
    lines.append(")")
    lines.append("print(response.status_code)")
    lines.append("print(response.json() if response.text else None)" if may_be_empty
                 else "print(response.json())")
    return "\n".join(lines)


# --- the page's view of one operation -----------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    fields: list[Field]
    body: str  # an example body, pretty JSON


@dataclass(frozen=True)
class Body:
    title: str
    media_type: str
    fields: list[Field]


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[Field]
    bodies: list[Body]
    answers: list[Answer]
    examples: list[Example] = field(default_factory=list)

    @property
    def statuses(self) -> list[str]:
        return [answer.status for answer in self.answers]


def _needs_token(doc: dict, operation: dict) -> bool:
    security = operation.get("security", doc.get("security", []))
    return any(requirement for requirement in security)


def _bodies(doc: dict, operation: dict) -> list[Body]:
    bodies = []
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        schema = resolve(doc, content.get("schema", {}))
        alternatives = schema.get("oneOf") or schema.get("anyOf") or [schema]
        for alternative in alternatives:
            title = (alternative.get("$ref", "").rsplit("/", 1)[-1]
                     or resolve(doc, alternative).get("title", ""))
            bodies.append(Body(title, media_type, schema_fields(doc, alternative)))
    return bodies


def _answers(doc: dict, operation: dict) -> list[Answer]:
    answers = []
    for status, response in operation.get("responses", {}).items():
        response = resolve(doc, response)
        content = response.get("content", {}).get("application/json", {})
        schema = content.get("schema")
        example = content.get("example", example_value(doc, schema) if schema else None)
        if isinstance(example, dict) and isinstance(example.get("error"), int) and status.isdigit():
            example["error"] = int(status)  # the shared error body names its own status
        fields = schema_fields(doc, schema) if schema else []
        body = json.dumps(example, ensure_ascii=False, indent=2) if example is not None else ""
        # An object with no fields of its own (the OpenAPI document itself) shows no shape.
        if not fields and example == {}:
            body = ""
        answers.append(Answer(str(status), response.get("description", ""), fields, body))
    return answers


def _upload_files(doc: dict, content: dict) -> dict[str, str]:
    schema = resolve(doc, content.get("schema", {}))
    files = {}
    for name, sub in schema.get("properties", {}).items():
        sub = resolve(doc, sub)
        if sub.get("format") == "binary" or sub.get("contentMediaType"):
            accepted = content.get("encoding", {}).get(name, {}).get("contentType", "")
            accepted = accepted or sub.get("contentMediaType", "")
            files[name] = next(
                (example for kind in (k.strip() for k in accepted.split(","))
                 for prefix, example in EXAMPLE_FILES.items() if kind.startswith(prefix)),
                "invoices.csv",
            )
    return files


def _examples(doc: dict, operation: dict, method: str, url: str, headers: dict[str, str],
              token: bool, extra: list[tuple[str, Any, str]]) -> list[Example]:
    variables = tuple((variable, name) for name, variable in path_variables(url).items())
    return [replace(example, variables=variables)
            for example in _made_examples(doc, operation, method, url, headers, token, extra)]


def _made_examples(doc: dict, operation: dict, method: str, url: str, headers: dict[str, str],
                   token: bool, extra: list[tuple[str, Any, str]]) -> list[Example]:
    made = []
    empty = any("content" not in resolve(doc, answer)
                for answer in operation.get("responses", {}).values())
    content = operation.get("requestBody", {}).get("content", {})
    json_content = content.get("application/json")
    upload = content.get("multipart/form-data")
    if json_content is not None:
        named = [
            (value.get("summary") or _("Example “%(name)s”", name=name), value.get("value"), "")
            for name, value in json_content.get("examples", {}).items()
        ]
        if "example" in json_content:
            named.append((_("Example"), json_content["example"], ""))
        if not named:
            named.append((_("Example"), example_value(doc, json_content.get("schema", {})), ""))
        for title, body, expect in [*named, *extra]:
            made.append(Example(
                title,
                curl_command(method, url, headers, body=body, token=token),
                python_snippet(method, url, headers, body=body, token=token),
                expect,
            ))
    elif upload is not None:
        files = _upload_files(doc, upload)
        made.append(Example(
            _("Example"),
            curl_command(method, url, headers, files=files, token=token),
            python_snippet(method, url, headers, files=files, token=token),
        ))
    else:
        made.append(Example(
            _("Example"),
            curl_command(method, url, headers, token=token),
            python_snippet(method, url, headers, token=token, may_be_empty=empty),
        ))
    return made


def operations(
    doc: dict, base_url: str, language: str,
    extra_examples: dict[str, list[tuple[str, Any, str]]] | None = None,
) -> list[Operation]:
    """Every operation of the document, as the page shows it, examples pointed at base_url."""
    found = []
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = [*item.get("parameters", ()), *operation.get("parameters", ())]
            headers = {}
            url_path = path
            for parameter in map(lambda p: resolve(doc, p), parameters):
                if parameter.get("in") == "header" and parameter["name"] == "Accept-Language":
                    headers["Accept-Language"] = language
                elif parameter.get("in") == "path" and "example" in parameter:
                    url_path = url_path.replace("{" + parameter["name"] + "}",
                                                str(parameter["example"]))
            token = _needs_token(doc, operation)
            op_id = operation.get("operationId", f"{method}-{path}")
            found.append(Operation(
                method=method.upper(),
                path=path,
                anchor="op-" + "".join(c if c.isalnum() else "-" for c in op_id).strip("-"),
                summary=operation.get("summary", ""),
                description=operation.get("description", ""),
                needs_token=token,
                parameters=[
                    Field(f"{p.get('name')} ({p.get('in')})", type_label(doc, p.get("schema", {})),
                          bool(p.get("required")), p.get("description", ""))
                    for p in map(lambda p: resolve(doc, p), parameters)
                ],
                bodies=_bodies(doc, operation),
                answers=_answers(doc, operation),
                examples=_examples(doc, operation, method.upper(), base_url + url_path,
                                   headers, token, (extra_examples or {}).get(op_id, [])),
            ))
    return found


# --- the page -----------------------------------------------------------------------------


def rate_limit_sentences(text: str) -> list[str]:
    """A Flask-Limiter limit such as ``120 per minute`` in whole translated sentences."""
    sentences = []
    for item in parse_many(text):
        n, unit, multiples = item.amount, item.GRANULARITY.name, item.multiples
        if multiples == 1 and unit == "second":
            sentences.append(ngettext("%(num)d request per second", "%(num)d requests per second", n))
        elif multiples == 1 and unit == "minute":
            sentences.append(ngettext("%(num)d request per minute", "%(num)d requests per minute", n))
        elif multiples == 1 and unit == "hour":
            sentences.append(ngettext("%(num)d request per hour", "%(num)d requests per hour", n))
        elif multiples == 1 and unit == "day":
            sentences.append(ngettext("%(num)d request per day", "%(num)d requests per day", n))
        else:
            sentences.append(ngettext(
                "%(num)d request every %(seconds)d seconds",
                "%(num)d requests every %(seconds)d seconds", n,
                seconds=item.GRANULARITY.seconds * multiples,
            ))
    return sentences


def _demo_examples() -> dict[str, list[tuple[str, Any, str]]]:
    """On a demo instance, one request that finds a real invoice (a match)."""
    if not current_app.config.get("YANPIAO_DEMO"):
        return {}
    from yanpiao.samples import demo_samples

    samples = [s for s in demo_samples(db.session, limit=12) if s.invoice.status.value == "normal"]
    if not samples:
        return {}
    sample = samples[0]
    body = {"invoice_code": sample.invoice.invoice_code,
            "invoice_number": sample.invoice.invoice_number,
            "issue_date": sample.invoice.issue_date.isoformat()}
    if sample.extra_field.value == "check_code":
        body["check_code"] = sample.extra_value[-6:]
    else:
        body["amount"] = sample.extra_value
    return {"verifyInvoice": [(
        _("A demo invoice of this instance"), body,
        _("200 with outcome “match”, until this invoice reaches its daily limit of checks."),
    )]}


@bp.get("/developers")
def developers():
    doc = document()
    config = current_app.config
    base_url = request.host_url.rstrip("/")
    ops = operations(doc, base_url, current_language()["html_lang"], _demo_examples())
    limits = {"api": rate_limit_sentences(config["YANPIAO_API_RATE_LIMIT"])}
    if any(op.path.startswith("/api/v1/batch") for op in ops):
        limits["batch"] = rate_limit_sentences(config.get("YANPIAO_BATCH_RATE_LIMIT", "30 per hour"))
    token_page = next((endpoint for endpoint in ("tokens.tokens", "auth.account")
                       if endpoint in current_app.view_functions), None)
    return render_template(
        "developers/page.html", doc=doc, operations=ops, base_url=base_url,
        limits=limits, daily_limit=config["YANPIAO_DAILY_LIMIT"], token_page=token_page,
        token_variable=TOKEN_VARIABLE, common_errors=COMMON_ERRORS, changelog=CHANGELOG,
        common_body=json.dumps({"error": 404, "message": "…"}, ensure_ascii=False, indent=2),
    )
