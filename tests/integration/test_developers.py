"""/developers: rendered from the OpenAPI document, examples that run and get the documented
answer, rate limits and tokens, translated chrome."""

from __future__ import annotations

import html
import json
import re
import shlex

import pytest

from api_examples import (check_answer, examples_on, operation_of, run_curl, run_python,
                          write_example_files)
from blueprints import developers
from blueprints.api.openapi import document
from factories import invoice_record

EN = {"Accept-Language": "en"}
STORED = invoice_record()


@pytest.fixture
def demo_registry(runner):
    result = runner.invoke(args=["registry", "seed", "--count", "15"])
    assert result.exit_code == 0, result.output


def page_text(client, headers=EN) -> str:
    response = client.get("/developers", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_operation_of_the_document_is_described(client):
    page = html.unescape(page_text(client))
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert f"{method.upper()} {path}" in page
            assert operation["summary"] in page
            for status, response in operation["responses"].items():
                assert (f'<code dir="ltr">{status}</code> <span class="api-doc-text" lang="en" '
                        f'dir="ltr">{response["description"]}') in page
    for field in ("invoice_code", "issue_date", "invoice.seller.tax_id", "invoice.items[].tax_rate",
                  "verification_count"):
        # Long names may break at their dots, nowhere else.
        assert f'<code dir="ltr">{field.replace(".", ".<wbr>")}</code>' in page
    assert '"outcome": "invalid"' in page  # an error body
    assert "http://localhost/api/v1" in page  # this instance, from the request


@pytest.fixture
def example_environment(app, make_user, monkeypatch, tmp_path):
    """What the page tells people to prepare: a token, a file to upload, a batch id."""
    from yanpiao.tokens import create_token

    user_id = make_user(email="integrator@example.com")
    with app.app_context():
        from blueprints.ext import db

        _row, token = create_token(db.session, user_id, "examples")
        db.session.commit()
    monkeypatch.setenv("YANPIAO_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    write_example_files(tmp_path)
    (tmp_path / "invoices.csv").write_text(
        "invoice_code,invoice_number,issue_date,check_code\n"
        f"{STORED['invoice_code']},{STORED['invoice_number']},{STORED['issue_date']},294433\n",
        encoding="utf-8",
    )
    yield
    from blueprints.batch_worker import wait_for_jobs

    wait_for_jobs(app)


def test_every_example_runs_and_gets_the_documented_answer(app, client, demo_registry,
                                                          make_invoice, example_environment,
                                                          monkeypatch):
    make_invoice()
    doc = document()
    examples = examples_on(page_text(client))
    assert {e["operation"] for e in examples} == {
        developers.operations(doc, "", "en")[i].anchor for i in range(len(doc_operations(doc)))}
    outcomes = {}
    for example in examples:
        for run in (run_curl, run_python):
            method, url, status, body = run(client, example[example_kind(run)])
            assert url.startswith("http://localhost/api/v1/")
            assert str(status) in example["statuses"], (example["title"], status, body)
            check_answer(doc, operation_of(doc, url, method), method, status, body)
            outcomes.setdefault((example["operation"], example["title"]), set()).add(
                body.get("outcome", status) if isinstance(body, dict) else status
            )
            if isinstance(body, dict) and "status_url" in body:
                monkeypatch.setenv("JOB_ID", body["id"])  # as the page says to
    # The demo invoice is found; the document's own examples are not in this registry.
    assert outcomes[("op-verifyInvoice", "A demo invoice of this instance")] == {"match"}
    assert outcomes[("op-verifyInvoice", "Example “fields”")] == {"not_found"}
    assert outcomes[("op-verifyInvoice", "Example “qr”")] == {"not_found"}
    if ("op-createBatch", "Example") in outcomes:
        assert outcomes[("op-createBatch", "Example")] == {202}
        assert outcomes[("op-batchStatus", "Example")] == {200}


def doc_operations(doc: dict) -> list:
    return [(path, method) for path, item in doc["paths"].items() for method in item]


def example_kind(run) -> str:
    return "curl" if run is run_curl else "python"


def test_bodies_are_shown_as_json_says_them(client):
    """A nullable status was listed as Python's "None", the common error body showed
    "\\u2026", and each error answer's shape said "error": 1 instead of its status."""
    page = html.unescape(client.get("/developers", headers={"Accept-Language": "en"})
                         .get_data(as_text=True))
    assert '<code dir="ltr">None</code>' not in page and '<code dir="ltr">null</code>' in page
    assert "\\u2026" not in page
    assert '"error": 1,' not in page
    assert '"error": 401,' in page and '"error": 404,' in page


def test_without_demo_data_there_is_no_demo_example(app, client, demo_registry):
    app.config["YANPIAO_DEMO"] = False
    titles = [example["title"] for example in examples_on(page_text(client))]
    assert "A demo invoice of this instance" not in titles and "Example “qr”" in titles


@pytest.mark.parametrize(("accept", "lang"), [("en", "en"), ("zh-CN", "zh-Hans")])
def test_examples_ask_for_the_language_of_the_page(client, accept, lang):
    page = page_text(client, {"Accept-Language": accept})
    assert f'<html lang="{lang}"' in page
    for example in examples_on(page):
        if "/api/v1/verify" in example["curl"]:
            assert f"-H 'Accept-Language: {lang}'" in example["curl"]
            assert f'"Accept-Language": "{lang}"' in example["python"]


def test_page_chrome_is_translatable(client):
    """Headings and explanations go through gettext: the Chinese page differs from the English
    one wherever the catalogue has a translation, and never falls back to another language."""
    english = page_text(client)
    chinese = page_text(client, {"Accept-Language": "zh-CN"})
    assert "<h1>Yanpiao API for developers</h1>" in english
    assert english.count("<h2") == chinese.count("<h2")
    assert "Verify one invoice" in chinese  # the OpenAPI summaries stay English


def test_rate_limits_follow_the_configuration(app, client):
    app.config["YANPIAO_API_RATE_LIMIT"] = "7 per hour;100/day"
    app.config["YANPIAO_DAILY_LIMIT"] = 3
    page = html.unescape(page_text(client))
    assert "Each client address may send 7 requests per hour, 100 requests per day to the API." in page
    assert "Each invoice can be found at most 3 times per day" in page
    assert "Retry-After" in page


def test_tokens_are_explained_with_a_link_to_the_account_page(app, client):
    page = html.unescape(page_text(client))
    assert "Only batch verification (/api/v1/batch) needs a token" in page
    assert "Authorization: Bearer <token>" in page
    if "tokens.tokens" in app.view_functions:
        assert 'href="/account/tokens"' in page


def test_changelog_lists_the_current_version(client):
    page = page_text(client)
    changelog = page.split('id="changelog"')[1]
    assert f'<code dir="ltr">{document()["info"]["version"]}</code>' in changelog
    assert "POST /api/v1/verify verifies one invoice" in changelog


def test_footer_links_every_page_to_it(client):
    page = client.get("/verify", headers=EN).get_data(as_text=True)
    assert '<a href="/developers">Developers</a>' in page


def test_no_inline_script_or_style(client):
    response = client.get("/developers", headers=EN)
    page = response.get_data(as_text=True)
    assert "style=" not in page and "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- the example builder on operations the document may grow ------------------------------

UPLOAD_DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "9"},
    "paths": {
        "/api/v1/batch": {"post": {
            "operationId": "createBatch", "summary": "Send a batch",
            "security": [{"bearer": []}],
            "requestBody": {"content": {"multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary"}}},
                "encoding": {"file": {"contentType": "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}},
            }}},
            "responses": {"202": {"description": "Accepted", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Created"}}}}},
        }},
        "/api/v1/batch/{job_id}": {"get": {
            "operationId": "batchStatus", "summary": "Progress",
            "security": [{"bearer": []}],
            "parameters": [{"name": "job_id", "in": "path", "required": True,
                            "schema": {"type": "string"}, "example": "b1"}],
            "responses": {"200": {"description": "ok"}},
        }},
    },
    "components": {"schemas": {"Created": {"type": "object", "properties": {
        "id": {"type": "string"}, "status_url": {"type": "string"}}}}},
}


def test_uploads_tokens_and_path_parameters_make_runnable_examples():
    create, status = developers.operations(UPLOAD_DOC, "https://yp.example", "en")
    assert create.needs_token and status.needs_token
    [example] = create.examples
    assert shlex.split(example.curl.replace("\\\n", " ")) == [
        "curl", "-sS", "-i", "-X", "POST", "https://yp.example/api/v1/batch",
        "-H", "Authorization: Bearer $YANPIAO_TOKEN", "-F", "file=@invoices.csv",
    ]
    compile(example.python, "<example>", "exec")
    assert 'files={"file": open("invoices.csv", "rb")}' in example.python
    assert '"Authorization": "Bearer " + os.environ["YANPIAO_TOKEN"]' in example.python
    assert "https://yp.example/api/v1/batch/b1" in status.examples[0].curl
    assert [a.status for a in create.answers] == ["202"]
    assert [f.name for f in create.answers[0].fields] == ["id", "status_url"]


def test_python_examples_are_python_and_json_bodies_survive_quoting():
    body = {"qr": "01,04,'x',\"y\"", "ok": True, "n": None, "list": [1.5]}
    snippet = developers.python_snippet("POST", "http://h/api", {}, body=body)
    compile(snippet, "<example>", "exec")
    literal = re.search(r"json=(.*),\n", snippet).group(1)
    assert eval(literal) == body  # noqa: S307 - our own generated literal
    command = developers.curl_command("POST", "http://h/api", {}, body=body)
    assert json.loads(shlex.split(command.replace("\\\n", " "))[-1]) == body
