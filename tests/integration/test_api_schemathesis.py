"""Schemathesis against /api/v1/openapi.json, in process: requests generated from the document
(valid and invalid ones) for every operation, with a real API token; no answer may be a 5xx.

Bounded to a few dozen examples per operation so it stays quick; the schema conformance of
the answers is test_api.py's and test_developers.py's business.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from factories import invoice_record


@pytest.fixture
def api_schema(app, make_user, make_invoice):
    from yanpiao.tokens import create_token

    app.config["YANPIAO_DAILY_LIMIT"] = 10**6
    make_invoice()
    make_invoice(**invoice_record(type="32", invoice_code="", check_code="",
                                  invoice_number="24312000000136634917", total="1130.00"))
    user_id = make_user(email="integrator@example.com")
    with app.app_context():
        from blueprints.ext import db

        _token, secret = create_token(db.session, user_id, "schemathesis")
        db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {secret}"}
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_generated_request_gets_a_server_error(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
