"""Schemathesis against /api/v1/openapi.json, in process: requests generated from the document
(valid and invalid ones) for every operation, with a real API token; no answer may be a 5xx.

Bounded to a few dozen examples per operation so it stays quick; the schema conformance of
the answers is test_api.py's and test_developers.py's business.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

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
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), secret


def test_no_generated_request_gets_a_server_error(api_schema):
    schema, token = api_schema
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4  # verify, decode, batch, batch status

    for operation, mode in itertools.product(operations, GenerationMode):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=20, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        call()
