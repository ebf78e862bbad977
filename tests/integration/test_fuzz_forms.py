"""Property tests over the form handlers: whatever a browser, a script or a scanner sends to a
form, the answer is a page (or a redirect), never a server error.

One app per test function, many examples through it (bounded by ``max_examples``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import invoice_record

FORMS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])

STORED = invoice_record()
# Values near the real ones reach the deeper branches (lookup, limits, mismatch).
near = st.sampled_from([
    STORED["invoice_code"], STORED["invoice_number"], STORED["issue_date"],
    STORED["check_code"][-6:], "1000.00", "１２３４５６７８", "2024年10月25日", "", " ", "0",
    "24312000000136634917", "99999999999999999999999", "-1", "1e9", "¥1,234.5",
])
value = st.one_of(near, st.text(max_size=60), st.text(alphabet="0123456789-./ ", max_size=25))
LANGUAGES = st.sampled_from(["en", "zh-CN", "ar", "ja", "ru", "ko", "xx", ""])


def _fields(names):
    return st.fixed_dictionaries({}, optional={name: value for name in names})


def _ok(response) -> bool:
    return response.status_code < 500


@FORMS
@given(fields=_fields(["invoice_code", "invoice_number", "issue_date", "amount", "check_code"]),
       language=LANGUAGES, htmx=st.booleans())
def test_the_verify_form(app, make_invoice, fields, language, htmx):
    app.config.update(WTF_CSRF_ENABLED=False, YANPIAO_DAILY_LIMIT=10**6)
    if not app.config.get("_fuzz_stored"):
        make_invoice()
        app.config["_fuzz_stored"] = True
    headers = {"Accept-Language": language}
    if htmx:
        headers["HX-Request"] = "true"
    client = app.test_client()
    assert _ok(client.post("/verify", data=fields, headers=headers))
    assert _ok(client.get("/verify/fields", query_string=fields, headers={"HX-Request": "true"}))


@FORMS
@given(qr=st.one_of(value, st.lists(value, max_size=9).map(",".join)), htmx=st.booleans())
def test_the_scanner_form(app, qr, htmx):
    app.config["WTF_CSRF_ENABLED"] = False
    headers = {"HX-Request": "true"} if htmx else {}
    assert _ok(app.test_client().post("/verify/scan", data={"qr": qr}, headers=headers))


@FORMS
@given(fields=_fields(["category", "message", "contact", "invoice_reference", "anonymous",
                       "consent", "submission", "website"]))
def test_the_feedback_form(app, fields):
    app.config["WTF_CSRF_ENABLED"] = False
    assert _ok(app.test_client().post("/feedback", data=fields))


@FORMS
@given(fields=_fields(["login", "password", "confirm", "remember", "email", "next"]),
       url=st.sampled_from(["/login", "/register", "/password/forgot"]))
def test_the_account_forms(app, fields, url):
    app.config["WTF_CSRF_ENABLED"] = False
    assert _ok(app.test_client().post(url, data=fields))


@FORMS
@given(receipt=value)
def test_the_receipt_check_form(app, receipt):
    app.config["WTF_CSRF_ENABLED"] = False
    assert _ok(app.test_client().post("/receipts/check", data={"receipt": receipt}))


@FORMS
@given(query=_fields(["q", "page", "outcome", "status", "type", "from", "to", "since", "until",
                      "show", "path"]),
       url=st.sampled_from(["/faq", "/history", "/history/export.csv", "/samples", "/verify"]))
def test_query_strings_of_pages(app, query, url):
    assert _ok(app.test_client().get(url, query_string=query))


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), value),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12,
)


@FORMS
@given(body=st.one_of(
    json_value,
    st.fixed_dictionaries({}, optional={name: json_value for name in
                                        ["qr", "invoice_code", "invoice_number", "issue_date",
                                         "amount", "check_code"]}),
))
def test_the_json_api(app, body):
    response = app.test_client().post("/api/v1/verify", json=body)
    assert _ok(response) and response.is_json


def test_a_scanned_code_whose_fields_make_no_request_is_answered_in_place(app, client):
    """Found by bench/soak.py: a legacy QR code without its check code used to give a 500."""
    app.config["WTF_CSRF_ENABLED"] = False
    qr = "01,04,011002400104,12345678,1.00,20241025,,ABCD"
    for headers, status in (({"HX-Request": "true"}, 200), ({}, 422)):
        response = client.post("/verify/scan", data={"qr": qr},
                               headers={"Accept-Language": "en", **headers})
        assert response.status_code == status
        assert "HX-Push-Url" not in response.headers
