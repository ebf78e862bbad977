"""The verify page through the Flask test client: full pages, htmx fragments, no-JS posts."""

import html
import re

import pytest

from factories import TODAY

HTMX = {"HX-Request": "true", "HX-Target": "verify-result"}
GOOD = {
    "invoice_code": "011002400104",
    "invoice_number": "12345678",
    "check_code": "294433",
}


@pytest.fixture
def csrf_client(app):
    """A client with CSRF on, as in production, and a way to read the page's token."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    client.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client


@pytest.fixture
def stored(make_invoice):
    return make_invoice()


def form(stored, **overrides):
    data = dict(GOOD, issue_date=stored["issue_date"])
    data.update(overrides)
    return data


def post(client, data, htmx=False, headers=None):
    data = dict(data, csrf_token=client.token)
    return client.post("/verify", data=data, headers={**(HTMX if htmx else {}), **(headers or {})})


def test_home_leads_to_verify(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/verify")


def test_empty_page_has_the_form_and_an_empty_status_region(client):
    page = client.get("/verify").get_data(as_text=True)
    assert 'id="verify-form"' in page and 'method="post"' in page
    assert 'role="status"' in page
    assert 'lang="zh-Hans"' in page  # Chinese by default


def test_no_js_post_redirects_to_the_result_page(csrf_client, stored):
    response = post(csrf_client, form(stored))
    assert response.status_code == 303
    page = csrf_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "verdict-ok" in page
    assert "北京星河科技有限公司" in page  # the seller, as on the paper invoice
    assert "*办公用品*打印纸" in page
    assert "¥1,130.00" in page


@pytest.mark.parametrize(
    ("overrides", "marker", "setup"),
    [
        ({}, "verdict-ok", None),
        ({"check_code": "000000"}, "verdict-bad", None),
        ({"invoice_number": "87654321"}, "verdict-bad", None),
        ({}, "verdict-warn", {"status": "void"}),
        ({"issue_date": "2000-01-01"}, "verdict-info", None),
    ],
    ids=["valid", "mismatch", "not_found", "void", "too_old"],
)
def test_htmx_post_returns_the_result_fragment(csrf_client, make_invoice, overrides, marker, setup):
    stored = make_invoice(**(setup or {}))
    response = post(csrf_client, form(stored, **overrides), htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body  # a fragment, not a page
    assert marker in body
    assert 'hx-swap-oob="true"' in body  # the form body is refreshed too
    assert "HX-Request" in response.headers["Vary"]
    assert "/verify/results/" in response.headers["HX-Push-Url"]


def test_result_pages_show_every_outcome_in_words(csrf_client, make_invoice):
    stored = make_invoice(status="red_reversed")
    body = post(csrf_client, form(stored), htmx=True).get_data(as_text=True)
    assert "红冲" in body  # the status in words, not only a colour


@pytest.mark.parametrize(("status", "heading"), [
    ("void", "Genuine, but voided"), ("red_reversed", "Genuine, but red-reversed"),
    ("out_of_control", "Genuine, but out of control"),
    ("abnormal", "Genuine, but flagged as abnormal")])
def test_a_genuine_invoice_out_of_force_is_named_in_a_sentence(csrf_client, make_invoice, status,
                                                               heading):
    """The heading put a status name into a sentence: "Genuine, but Voided"."""
    stored = make_invoice(status=status)
    body = post(csrf_client, form(stored), htmx=True, headers={"Accept-Language": "en"})
    text = html.unescape(body.get_data(as_text=True))
    assert heading in text
    # Said once, in bold, before the reason: out of control said "Do not accept" twice.
    assert text.count("Do not accept") == 1


def test_mismatch_shows_no_invoice_details(csrf_client, stored):
    body = post(csrf_client, form(stored, check_code="000000"), htmx=True).get_data(as_text=True)
    assert "北京星河科技有限公司" not in body
    assert "1,130" not in body


def test_limit_reached_after_five_attempts(csrf_client, stored):
    for _ in range(5):
        post(csrf_client, form(stored, check_code="000000"), htmx=True)
    body = post(csrf_client, form(stored), htmx=True).get_data(as_text=True)
    assert "5" in body and "verdict-info" in body


@pytest.mark.parametrize("language, message", [
    ("ar", "طويل جدًا: استخدم 40 حرفًا على الأكثر."),
    ("en", "Too long: use at most 40 characters."),
    ("ru", "Слишком длинно: не больше 40 символов."),
])
def test_a_field_too_long_is_said_in_the_visitors_language(csrf_client, stored, language,
                                                           message):
    """WTForms' Arabic catalog lacks most plural forms: Arabic visitors read its English."""
    response = post(csrf_client, form(stored, invoice_code="1" * 41),
                    headers={"Accept-Language": language})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_arabic_verdicts_put_the_limit_in_its_plural_form(csrf_client, stored):
    """"5 عمليات" and "5 مرات": the verdicts read "5 عملية" and "5 مرة", the form for one."""
    arabic = {"Accept-Language": "ar"}
    body = post(csrf_client, form(stored, check_code="000000"), htmx=True,
                headers=arabic).get_data(as_text=True)
    assert "ضمن حد 5 عمليات تحقق لكل فاتورة يوميًا" in body
    for _ in range(4):
        post(csrf_client, form(stored, check_code="000000"), htmx=True)
    body = post(csrf_client, form(stored), htmx=True, headers=arabic).get_data(as_text=True)
    assert "تم التحقق من هذه الفاتورة 5 مرات اليوم" in body


def test_duplicate_use_warning_on_the_second_check(csrf_client, stored):
    post(csrf_client, form(stored), htmx=True)
    body = post(csrf_client, form(stored), htmx=True).get_data(as_text=True)
    assert "duplicate-warning" in body


def submission_key(page: str, form_id: str = "verify-form") -> str:
    form = page.split(f'id="{form_id}"', 1)[1]
    return re.search(r'name="submission" value="([^"]+)"', form).group(1)


def test_a_form_sent_twice_without_javascript_is_checked_once(csrf_client, stored):
    """A double click on "Verify" sends the form twice; the browser shows the second answer."""
    sent = form(stored, submission=submission_key(csrf_client.get("/verify").get_data(as_text=True)))
    first, second = post(csrf_client, sent), post(csrf_client, sent)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    page = csrf_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "verdict-ok" in page and "duplicate-warning" not in page
    # The result page's form is a new submission: checking again counts, and warns.
    again = post(csrf_client, form(stored, submission=submission_key(page)))
    assert again.headers["Location"] != first.headers["Location"]
    page = csrf_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "duplicate-warning" in page


def test_the_same_form_sent_with_other_fields_is_a_new_check(csrf_client, stored):
    key = submission_key(csrf_client.get("/verify").get_data(as_text=True))
    wrong = post(csrf_client, form(stored, check_code="000000", submission=key))
    right = post(csrf_client, form(stored, submission=key))  # corrected after "Back"
    assert right.headers["Location"] != wrong.headers["Location"]
    assert "verdict-ok" in csrf_client.get(right.headers["Location"]).get_data(as_text=True)


def test_after_an_htmx_check_the_form_is_a_new_submission(csrf_client, stored):
    key = submission_key(csrf_client.get("/verify").get_data(as_text=True))
    fragment = post(csrf_client, form(stored, submission=key), htmx=True).get_data(as_text=True)
    assert submission_key(fragment, "verify-form-body") != key
    fragment = post(csrf_client, form(stored, submission=submission_key(
        fragment, "verify-form-body")), htmx=True).get_data(as_text=True)
    assert "duplicate-warning" in fragment


def test_a_scanned_code_sent_twice_is_checked_once(csrf_client, stored):
    page = csrf_client.get("/verify").get_data(as_text=True)
    payload = (f"01,04,{stored['invoice_code']},{stored['invoice_number']},1000.00,"
               f"{stored['issue_date'].replace('-', '')},{stored['check_code']},dbfe")
    sent = {"qr": payload, "submission": submission_key(page, "scan-form"),
            "csrf_token": csrf_client.token}
    first = csrf_client.post("/verify/scan", data=sent)
    second = csrf_client.post("/verify/scan", data=sent)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    page = csrf_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "verdict-ok" in page and "duplicate-warning" not in page


def test_invalid_no_js_post_shows_summary_and_inline_errors(csrf_client):
    response = post(csrf_client, {"invoice_code": "0110", "invoice_number": "1", "issue_date": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in page and "autofocus" in page
    assert page.count('class="error-message"') == 3
    assert 'href="#invoice_code"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="0110"' in page  # nothing typed is lost


def test_invalid_htmx_post_swaps_errors_and_clears_the_result(csrf_client):
    response = post(csrf_client, {"invoice_number": "1"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "error-summary" in body
    assert "verdict" not in body


def test_wrong_extra_field_tells_which_one_the_invoice_needs(csrf_client, make_invoice):
    stored = make_invoice(type="01", invoice_code="1100245130", check_code="")
    response = post(csrf_client, form(stored, invoice_code="1100245130"))
    page = response.get_data(as_text=True)
    assert "不含税金额" in page or "amount before tax" in page.lower()
    assert 'id="amount"' in page


def test_post_without_csrf_token_is_refused_but_keeps_the_input(app, stored):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/verify", data=form(stored))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="12345678"' in page
    assert 'class="notice"' in page


def test_htmx_post_with_stale_token_is_refused(csrf_client, stored):
    data = dict(form(stored), csrf_token="stale")
    response = csrf_client.post("/verify", data=data, headers=HTMX)
    assert "verdict" not in response.get_data(as_text=True)
    assert 'class="notice"' in response.get_data(as_text=True)


@pytest.mark.parametrize(("url", "body", "data"), [
    ("/verify/scan", "scan-form-body", {"qr": "01,04,..."}),
    ("/verify/photo", "photo-form-body", {}),
])
def test_an_expired_scan_or_photo_is_said_by_its_own_form(app, url, body, data):
    """The notice went into the typed form's body, far below on a phone, and the htmx answer
    emptied the typed form too."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post(url, data=data, headers=HTMX)
    page = response.get_data(as_text=True)
    assert 'class="notice"' in page.split(f'id="{body}"', 1)[1]
    assert 'id="verify-form-body"' not in page


def test_htmx_header_token_is_accepted(csrf_client, stored):
    response = csrf_client.post(
        "/verify", data=form(stored), headers={**HTMX, "X-CSRFToken": csrf_client.token}
    )
    assert "verdict-ok" in response.get_data(as_text=True)


def test_a_result_page_is_only_for_its_own_session(app, csrf_client, stored):
    location = post(csrf_client, form(stored)).headers["Location"]
    assert csrf_client.get(location).status_code == 200
    assert app.test_client().get(location).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ({"invoice_code": "1100245130"}, 'id="amount"', 'id="check_code"'),
        ({"invoice_code": "011002400104"}, 'id="check_code"', 'id="amount"'),
        ({"invoice_number": "24312000000136634917"}, 'id="amount"', 'id="check_code"'),
    ],
)
def test_extra_field_fragment_adapts_to_the_code(client, query, expected, absent):
    response = client.get("/verify/fields", query_string=query, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="extra-fields"')
    assert expected in body and absent not in body


def test_extra_fields_are_left_alone_while_they_are_still_the_right_ones(client):
    """A refresh that would show the same fields swaps nothing: the visitor may already be
    typing the check code, and a swap would put back what the field held a moment ago."""
    headers = {"HX-Request": "true"}
    first = client.get("/verify/fields", query_string={"invoice_code": "011002400104"},
                       headers=headers).get_data(as_text=True)
    shown = re.search(r'name="shown" value="([^"]+)"', first).group(1)
    same = client.get("/verify/fields", headers=headers, query_string={
        "invoice_code": "011002400104", "invoice_number": "1234", "check_code": "12",
        "shown": shown})
    assert same.status_code == 204 and same.get_data() == b""
    changed = client.get("/verify/fields", headers=headers, query_string={
        "invoice_code": "1100245130", "check_code": "12", "shown": shown})
    assert changed.status_code == 200 and 'id="amount"' in changed.get_data(as_text=True)


def test_extra_field_labels_per_type(client):
    def label(query):
        return client.get("/verify/fields", query_string=query,
                          headers={"HX-Request": "true", "Accept-Language": "en"}).get_data(as_text=True)

    assert "Amount before tax" in label({"invoice_code": "1100245130"})
    assert "Total including tax" in label({"invoice_number": "24312000000136634917"})
    assert "Total vehicle price" in label({"invoice_code": "011002400117"})
    assert "Check code (last 6 digits)" in label({"invoice_code": "011002400104"})


def test_english_page(client):
    page = client.get("/verify", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="en"' in page and "Verify an invoice" in page


def test_language_choice_is_kept(csrf_client):
    response = csrf_client.post("/language", data={"lang": "en", "next": "/verify",
                                                   "csrf_token": csrf_client.token})
    assert response.status_code == 303
    assert 'lang="en"' in csrf_client.get("/verify").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(csrf_client):
    response = csrf_client.post("/language", data={"lang": "en", "next": "//evil.example/",
                                                   "csrf_token": csrf_client.token})
    assert response.headers["Location"].endswith("/verify")


def test_security_headers(client):
    response = client.get("/verify")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in csp


def test_no_inline_script_or_style(client, csrf_client, stored):
    pages = [client.get("/verify").get_data(as_text=True),
             client.get("/samples").get_data(as_text=True),
             post(csrf_client, form(stored), htmx=True).get_data(as_text=True)]
    for page in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert " style=" not in page and "<style" not in page


@pytest.mark.parametrize("status", [404, 405])
def test_error_pages_use_the_site_layout(client, status):
    response = client.get("/nowhere") if status == 404 else client.delete("/verify")
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'class="site-header"' in page and "Traceback" not in page
    if status == 405:
        assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_shows_a_friendly_page(app, client, monkeypatch):
    import blueprints.verify as view

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(view, "verify_invoice", broken)
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/verify", data={**GOOD, "issue_date": TODAY.isoformat()})
    assert response.status_code == 500
    assert "boom" not in response.get_data(as_text=True)
    assert 'class="site-header"' in response.get_data(as_text=True)


def test_too_large_upload_is_413_in_the_layout(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/verify", data={"invoice_number": "1" * 5000})
    assert response.status_code == 413
    assert 'class="site-header"' in response.get_data(as_text=True)
