"""The examples of /developers: taken from the rendered page, run, and their answers checked
against the OpenAPI document (status listed for the operation, body valid for its schema)."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shlex
import sys
import types
from contextlib import redirect_stdout
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:yanpiao:openapi"
EXAMPLE = re.compile(
    r'<div class="api-example" data-operation="([^"]+)" data-statuses="([^"]*)">(.*?)</div>', re.S
)


def examples_on(page: str) -> list[dict]:
    found = []
    for operation, statuses, block in EXAMPLE.findall(page):
        code = {kind: html.unescape(text) for kind, text in
                re.findall(r'<code class="example-(curl|python)">(.*?)</code>', block, re.S)}
        title = html.unescape(re.search(r"<h4>(.*?)</h4>", block, re.S).group(1))
        found.append({"operation": operation, "statuses": statuses.split(), "title": title,
                      "block": html.unescape(block), **code})
    return found


def write_example_files(folder) -> None:
    """The files upload examples name (blueprints.developers.EXAMPLE_FILES): a QR code of a
    registry invoice as an image, so that an endpoint reading images has something to read."""
    import segno

    payload = "01,04,011002400104,12345678,1000.00,20241025,48114255542168294433,DBFE"
    for name in ("invoice.png", "invoice.pdf"):
        segno.make_qr(payload, error="m").save(str(folder / name), scale=8, border=4)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_answer(doc: dict, path: str, method: str, status: int, body) -> None:
    """The status is one the document lists for the operation, the body valid for it."""
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, not documented"
    content = responses[str(status)].get("content", {}).get("application/json")
    if content is None:
        return
    registry = Registry().with_resource(DOC_URI, Resource(contents=doc, specification=DRAFT202012))
    pointer = _pointer("paths", path, method.lower(), "responses", str(status), "content",
                       "application/json", "schema")
    validator = Draft202012Validator({"$ref": f"{DOC_URI}#/{pointer}"}, registry=registry)
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, errors


def operation_of(doc: dict, url: str, method: str) -> str:
    """The document's path template that this URL is an instance of."""
    path = urlsplit(url).path
    for template in doc["paths"]:
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in doc["paths"][template]:
            return template
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


# --- running them inside the test process, on a Flask test client -------------------------


class _Response:
    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response.headers
        self.text = response.get_data(as_text=True)

    def json(self):
        return json.loads(self.text)


def requests_shim(client) -> types.ModuleType:
    """A ``requests`` module whose get/post go to the Flask test client."""
    module = types.ModuleType("requests")
    module.calls = []

    def call(method, url, *, json=None, headers=None, files=None, timeout=None):
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        kwargs = {"headers": headers or {}}
        if json is not None:
            kwargs["json"] = json
        if files:
            kwargs["data"] = {name: (handle, handle.name) for name, handle in files.items()}
            kwargs["content_type"] = "multipart/form-data"
        module.calls.append((method, url))
        return _Response(client.open(target, method=method, **kwargs))

    module.get = lambda url, **kw: call("GET", url, **kw)
    module.post = lambda url, **kw: call("POST", url, **kw)
    module.delete = lambda url, **kw: call("DELETE", url, **kw)
    return module


def run_python(client, code: str) -> tuple[str, str, int, object]:
    """Run a Python example against the client: (method, url, status, body)."""
    shim = requests_shim(client)
    saved = sys.modules.get("requests")
    sys.modules["requests"] = shim
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            exec(compile(code, "<example>", "exec"), {"__name__": "__main__"})
    finally:
        if saved is None:
            sys.modules.pop("requests", None)
        else:
            sys.modules["requests"] = saved
    status, body = out.getvalue().split("\n", 1)
    [(method, url)] = shim.calls
    import ast

    return method, url, int(status), ast.literal_eval(body.strip())


def run_curl(client, command: str) -> tuple[str, str, int, object]:
    """Interpret a curl example's options on the test client: (method, url, status, body)."""
    # Shell words; the examples' only expansions are environment variables in double quotes.
    argv = [os.path.expandvars(word) for word in shlex.split(command.replace("\\\n", " "))]
    assert argv[0] == "curl"
    method, url, headers, data, files = "GET", None, {}, None, {}
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _sep, value = next(args).partition(": ")
            headers[name] = value
        elif arg == "-d":
            data = next(args)
        elif arg == "-F":
            name, _sep, value = next(args).partition("=@")
            files[name] = (open(value, "rb"), value)  # noqa: SIM115 - the client reads it
        elif arg in ("-sS", "-i"):
            continue
        elif arg.startswith("-"):
            raise AssertionError(f"unexpected curl option {arg}")
        else:
            url = arg
    parts = urlsplit(url)
    kwargs = {"data": files, "content_type": "multipart/form-data"} if files else {"data": data}
    response = client.open(parts.path, method=method, headers=headers, **kwargs)
    text = response.get_data(as_text=True)
    return method, url, response.status_code, json.loads(text) if text else None
