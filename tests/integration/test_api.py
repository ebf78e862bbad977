"""POST /api/v1/verify per DESIGN 3.4."""

import pytest
from openapi_spec_validator import validate

QR_PAYLOAD = "01,04,011002400104,12345678,1000.00,{date},48114255542168294433,dbfe"


@pytest.fixture
def stored(make_invoice):
    return make_invoice()


def fields(stored, **overrides):
    body = {
        "invoice_code": stored["invoice_code"],
        "invoice_number": stored["invoice_number"],
        "issue_date": stored["issue_date"],
        "check_code": "294433",
    }
    body.update(overrides)
    return body


def test_match_returns_the_invoice_in_import_field_names(client, stored):
    response = client.post("/api/v1/verify", json=fields(stored))
    body = response.get_json()
    assert response.status_code == 200
    assert body["outcome"] == "match"
    assert body["status"] == "normal" and body["valid"] is True
    assert body["verification_count"] == 1
    assert body["invoice"]["total"] == "1130.00"
    assert body["invoice"]["seller"]["name"] == stored["seller"]["name"]
    assert body["invoice"]["items"][0]["tax_rate"] == "0.13"
    assert body["receipt_id"]


def test_voided_match_is_not_valid(client, make_invoice):
    stored = make_invoice(status="void")
    body = client.post("/api/v1/verify", json=fields(stored)).get_json()
    assert (body["outcome"], body["status"], body["valid"]) == ("match", "void", False)


def test_not_found_and_mismatch_reveal_nothing(client, stored):
    not_found = client.post("/api/v1/verify", json=fields(stored, invoice_number="87654321"))
    mismatch = client.post("/api/v1/verify", json=fields(stored, check_code="000000"))
    assert not_found.status_code == mismatch.status_code == 200
    assert set(not_found.get_json()) == {"outcome", "receipt_id"}
    assert set(mismatch.get_json()) == {"outcome", "receipt_id"}
    assert mismatch.get_json()["outcome"] == "mismatch"


def test_invalid_fields_answer_422_per_field(client):
    response = client.post("/api/v1/verify", json={"invoice_code": "12", "issue_date": "soon"},
                           headers={"Accept-Language": "en"})
    body = response.get_json()
    assert response.status_code == 422 and body["outcome"] == "invalid"
    assert set(body["errors"]) == {"invoice_code", "invoice_number", "issue_date"}
    assert "10 or 12 digits" in body["errors"]["invoice_code"]


@pytest.mark.parametrize("number", ["00984499", "26112000000000000001"])
def test_an_amount_beyond_any_invoice_is_refused_as_a_field(client, stored, number):
    """Twenty nines overflowed the 64-bit cents of the record and answered 500."""
    body = fields(stored, invoice_number=number, check_code="",
                  amount="99999999999999999999.99")
    body["invoice_code"] = "" if len(number) == 20 else "1100245130"  # checked by an amount
    response = client.post("/api/v1/verify", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json() == {"outcome": "invalid", "errors": {
        "amount": "No invoice is for this much. Check the digits of the amount."}}


def test_messages_follow_accept_language(client):
    zh = client.post("/api/v1/verify", json={}, headers={"Accept-Language": "zh-CN"}).get_json()
    en = client.post("/api/v1/verify", json={}, headers={"Accept-Language": "en"}).get_json()
    assert zh["errors"]["invoice_number"] != en["errors"]["invoice_number"]


@pytest.mark.parametrize(("date", "outcome"), [("2000-01-01", "too_old"), ("2999-01-01", "future_date")])
def test_date_refusals(client, stored, date, outcome):
    response = client.post("/api/v1/verify", json=fields(stored, issue_date=date))
    assert response.status_code == 422
    assert response.get_json()["outcome"] == outcome
    assert "issue_date" in response.get_json()["errors"]


def test_limit_exceeded_is_429(client, stored):
    for _ in range(5):
        client.post("/api/v1/verify", json=fields(stored))
    response = client.post("/api/v1/verify", json=fields(stored))
    assert response.status_code == 429
    assert response.get_json()["outcome"] == "limit_exceeded"


@pytest.mark.parametrize("limit, language, message", [
    (1, "en", "This invoice has already been checked 1 time today. Try again tomorrow."),
    (2, "ar", "تم التحقق من هذه الفاتورة مرتين اليوم. حاول مجددًا غدًا."),
    (5, "ar", "تم التحقق من هذه الفاتورة 5 مرات اليوم. حاول مجددًا غدًا."),
])
def test_limit_message_says_the_number_in_the_words_of_the_language(app, client, stored, limit,
                                                                     language, message):
    """Arabic says "5 مرات" and "مرتين" (twice): the message read "5 مرة", one time, for any limit."""
    app.config["YANPIAO_DAILY_LIMIT"] = limit
    for _ in range(limit):
        client.post("/api/v1/verify", json=fields(stored))
    response = client.post("/api/v1/verify", json=fields(stored),
                           headers={"Accept-Language": language})
    assert response.status_code == 429
    assert response.get_json()["message"] == message


def test_qr_text_is_verified(client, stored):
    qr = QR_PAYLOAD.format(date=stored["issue_date"].replace("-", ""))
    response = client.post("/api/v1/verify", json={"qr": qr})
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "match"


@pytest.mark.parametrize("qr", ["https://example.com", "6901234567892", "", 12, None])
def test_not_an_invoice_qr(client, qr):
    response = client.post("/api/v1/verify", json={"qr": qr}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json() == {"outcome": "invalid",
                                   "errors": {"qr": "This is not an invoice QR code."}}


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"',
                                  "[" * 100_000 + "]" * 100_000,
                                  '{"qr": ' + "[" * 100_000 + "]" * 100_000 + "}"])
def test_a_body_that_is_not_an_object(client, data):
    """Arrays nested 100,000 deep broke the JSON parser's recursion: a 500."""
    response = client.post("/api/v1/verify", data=data, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["outcome"] == "invalid"


def test_wrongly_typed_field(client):
    response = client.post("/api/v1/verify", json={"invoice_number": ["1"]})
    assert response.status_code == 422
    assert "invoice_number" in response.get_json()["errors"]


def test_api_is_stateless(client, stored):
    response = client.post("/api/v1/verify", json=fields(stored))
    assert "Set-Cookie" not in response.headers


def test_api_needs_no_csrf_token(app, stored):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/api/v1/verify", json=fields(stored))
    assert response.status_code == 200


def test_api_errors_are_json(app, client):
    en = {"Accept-Language": "en"}
    response = client.get("/api/v1/nothing", headers=en)
    assert response.status_code == 404 and response.is_json
    assert "/api/v1/openapi.json" in response.get_json()["message"]
    # A 405 names the methods allowed (HTTP requires it), in words meant for a script:
    # it had no Allow header and told the caller to "start again from the verification page".
    response = client.get("/api/v1/verify", headers=en)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "Allow header" in response.get_json()["message"]
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = client.post("/api/v1/verify", data="x" * (3 * 1024 * 1024),
                           content_type="application/json", headers=en)
    assert response.status_code == 413
    assert response.get_json()["message"] == "The request body is larger than 2 MB."


def test_rate_limited_per_client(app, stored):
    from app import create_app

    small = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                        "SECRET_KEY": "x", "YANPIAO_API_RATE_LIMIT": "2 per minute"})
    client = small.test_client()
    statuses = [client.post("/api/v1/verify", json=fields(stored)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    last = client.post("/api/v1/verify", json=fields(stored))
    assert last.get_json()["outcome"] == "rate_limited"
    assert "Retry-After" in last.headers


def test_openapi_document_is_valid_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/verify" in document["paths"]
