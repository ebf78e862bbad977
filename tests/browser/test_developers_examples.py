"""Every example of /developers, copied from the page and run as an integrator would run it:
curl in a shell and Python with the requests library, against a live gunicorn."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from api_examples import check_answer, examples_on, operation_of, write_example_files
from factories import invoice_record

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str, **headers) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.read().decode()


def parse_curl_output(output: str) -> tuple[int, object]:
    """``curl -i`` output: status line and headers, a blank line, the body."""
    while True:
        head, _sep, output = output.partition("\r\n\r\n")
        status = int(head.split()[1])
        if status >= 200:
            return status, json.loads(output) if output else None  # None: 204, no body


def test_every_example_works_against_a_live_instance(live_server, server_env, tmp_path):
    doc = json.loads(fetch(live_server + "/api/v1/openapi.json"))
    examples = examples_on(fetch(live_server + "/developers", **{"Accept-Language": "en"}))
    assert examples
    created = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "users", "token", "examples@example.com"],
        cwd=ROOT, env=server_env, capture_output=True, text=True, check=True,
    )
    env = dict(os.environ, YANPIAO_TOKEN=created.stdout.strip().splitlines()[-1])
    record = invoice_record()
    write_example_files(tmp_path)
    (tmp_path / "invoices.csv").write_text(
        "invoice_code,invoice_number,issue_date,check_code\n"
        f"{record['invoice_code']},{record['invoice_number']},{record['issue_date']},294433\n",
        encoding="utf-8",
    )
    outcomes = {}
    for example in examples:
        # Bytes: text mode would turn the CRLFs that end the headers into LFs.
        curl = subprocess.run(["bash", "-c", example["curl"]], cwd=tmp_path, env=env,
                              capture_output=True, timeout=60)
        assert curl.returncode == 0, curl.stderr
        python = subprocess.run([sys.executable, "-c", example["python"]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60)
        assert python.returncode == 0, python.stderr
        status, body = python.stdout.split("\n", 1)
        answers = [parse_curl_output(curl.stdout.decode()), (int(status), ast.literal_eval(body.strip()))]
        url = example["curl"].split()[5].strip("'\"").replace("${JOB_ID}", "x")
        method = example["curl"].split()[4]
        for status, body in answers:
            assert str(status) in example["statuses"], (example["title"], status, body)
            check_answer(doc, operation_of(doc, url, method), method, status, body)
            outcomes.setdefault((example["operation"], example["title"]), set()).add(
                body.get("outcome", status) if isinstance(body, dict) else status)
            if isinstance(body, dict) and "status_url" in body:
                env["JOB_ID"] = body["id"]  # as the page tells people to
    assert outcomes[("op-verifyInvoice", "A demo invoice of this instance")] == {"match"}
    if ("op-createBatch", "Example") in outcomes:
        assert outcomes[("op-batchStatus", "Example")] == {200}
