"""`make test`'s pip-audit step fails on a vulnerability and only on a network failure says
"not audited" instead of failing — it never reports an unreachable service as a pass."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "pip_audit.py"


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("pip_audit_step", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(stdout: str = "", stderr: str = "", returncode: int = 0) -> int:
        monkeypatch.setattr(module.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
            a, returncode, stdout=stdout, stderr=stderr))
        return module.main()

    return run


def report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_a_known_vulnerability_fails(audit, capsys):
    vulnerable = {"name": "flask", "version": "0.1", "vulns": [
        {"id": "PYSEC-0000-1", "fix_versions": ["3.1.3"], "description": "x"}]}
    assert audit(report(vulnerable, {"name": "click", "version": "8", "vulns": []}), "", 1) == 1
    assert "PYSEC-0000-1" in capsys.readouterr().out


def test_a_clean_audit_passes(audit, capsys):
    assert audit(report({"name": "flask", "version": "3.1.3", "vulns": []})) == 0
    assert "1 packages audited, no known vulnerabilities" in capsys.readouterr().out


def test_an_unreachable_service_is_reported_as_not_audited(audit, capsys):
    skipped = {"name": "flask", "skip_reason":
               "Dependency not found on PyPI and could not be audited: flask (3.1.3)"}
    assert audit(report(skipped)) == 0
    assert "NOT AUDITED" in capsys.readouterr().out


def test_a_connection_error_is_reported_as_not_audited(audit, capsys):
    error = "requests.exceptions.ConnectionError: Max retries exceeded (NameResolutionError)"
    assert audit("", error, 1) == 0
    assert "NOT AUDITED" in capsys.readouterr().out


def test_any_other_failure_fails(audit):
    assert audit("", "pip-audit: error: unrecognized arguments", 2) == 2
