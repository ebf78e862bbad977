"""Who may open what, for every route of ``app.url_map``: anonymous visitors, the owner of a
thing, another user, staff and administrators.

Every endpoint must be classified below; a new one fails ``test_every_route_is_classified``
until it is. Routes under /staff are staff-only without being listed, and every one of them is
tried by every kind of person, so a staff route cannot be forgotten.
"""

from __future__ import annotations

import pytest

from site_fixtures import site  # noqa: F401  (fixture)

# Anyone may use these; they show nobody's data.
PUBLIC = {
    "verify.home", "verify.verify", "verify.extra_fields", "verify.scan", "verify.photo",
    "samples.samples", "health.healthz", "health.readyz", "i18n.choose_language",
    "display.toggle_contrast", "auth.login", "auth.register", "auth.logout",
    "auth.forgot_password", "faq.faq", "faq.vote", "feedback.feedback", "receipts.check",
    "receipts.public_key", "batch.template", "developers.developers",
    "api.verify", "api.decode", "api.openapi",
    "kiosk.attract", "kiosk.start", "kiosk.scan", "kiosk.poll", "kiosk.keypad", "kiosk.another",
    "kiosk.finish", "kiosk.accessibility", "kiosk.preview",
}
# Whoever holds the secret link may use these (the link is the key), nobody else.
CAPABILITY = {"feedback.status", "feedback.follow_up", "feedback.rating", "feedback.withdraw",
              "feedback.delete", "auth.reset_password"}
# One person's own things: history, receipts, batches, API tokens, the account.
OWNED = {
    "verify.show_result", "history.history", "history.export", "history.detail",
    "history.verify_again", "history.delete", "history.delete_all", "receipts.show",
    "receipts.text", "receipts.pdf", "batch.index", "batch.job", "batch.download", "batch.delete",
    "tokens.tokens", "tokens.create", "tokens.revoke", "auth.account", "auth.change_password",
    "auth.delete_account",
}
# The JSON API's per-user endpoints: an API token, not a session.
TOKEN = {"api.create_batch", "api.batch_status", "api.delete_batch"}
# Under /staff, administrators only (the rest of /staff is for staff and administrators).
ADMIN_ONLY = {"staff.users", "staff.create_staff", "staff.change_role", "staff.change_active"}

PEOPLE = ("anonymous", "owner", "staff", "admin")


def is_login_redirect(response) -> bool:
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def denied(response) -> bool:
    return response.status_code in (401, 403, 404) or is_login_redirect(response)


def allowed(response) -> bool:
    return response.status_code < 400 and not is_login_redirect(response)


def staff_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff")]


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    staff = {rule.endpoint for rule in staff_rules(app)}
    classes = [PUBLIC, CAPABILITY, OWNED, TOKEN, staff]
    unclassified = sorted(endpoints - set().union(*classes))
    assert not unclassified, f"classify these routes in test_authorization.py: {unclassified}"
    for index, group in enumerate(classes):
        for other in classes[index + 1:]:
            assert not group & other, f"in two classes at once: {sorted(group & other)}"
    assert ADMIN_ONLY <= staff
    assert not (PUBLIC | CAPABILITY | OWNED | TOKEN) - endpoints, "a listed route is gone"


def _staff_url(site, rule) -> str:
    # A ticket that does not exist for the one route that would delete the site's ticket.
    number = "FB-2000-000001" if rule.endpoint == "staff.delete_ticket" else site.ticket_number
    values = {"number": number, "invoice_id": site.invoice_id,
              "job_id": site.import_job_id, "user_id": site.user_ids["other"],
              "name": "categories"}
    missing = rule.arguments - values.keys()
    assert not missing, f"give {rule.rule} a value for {missing} in _staff_url()"
    return site.app.url_map.bind("localhost").build(
        rule.endpoint, {name: values[name] for name in rule.arguments})


def test_staff_routes_by_person(site):  # noqa: F811
    failures = []
    for who in PEOPLE:
        client = site.client(who)
        for rule in staff_rules(site.app):
            url = _staff_url(site, rule)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method)
                if who == "anonymous":
                    ok = is_login_redirect(response)
                elif who == "owner":
                    ok = response.status_code == 403
                elif who == "staff" and rule.endpoint in ADMIN_ONLY:
                    ok = response.status_code == 403
                else:
                    ok = response.status_code not in (401, 403) and not is_login_redirect(
                        response) and response.status_code < 500
                if not ok:
                    failures.append(f"{who}: {method} {url} → {response.status_code}")
    assert not failures, "\n".join(failures)


def owned_requests(site):
    """(endpoint, method, url): one request for each owned thing of the owner."""
    receipt, job = site.receipt_id, site.batch_job_id
    return [
        ("verify.show_result", "GET", f"/verify/results/{receipt}"),
        ("history.detail", "GET", f"/history/{receipt}"),
        ("history.verify_again", "POST", f"/history/{receipt}/verify-again"),
        ("receipts.show", "GET", f"/receipts/{receipt}"),
        ("receipts.text", "GET", f"/receipts/{receipt}.txt"),
        ("receipts.pdf", "GET", f"/receipts/{receipt}.pdf"),
        ("batch.job", "GET", f"/batch/{job}"),
        ("batch.download", "GET", f"/batch/{job}/results.csv"),
        ("batch.delete", "GET", f"/batch/{job}/delete"),  # asks; the POST would delete
        ("tokens.revoke", "POST", f"/account/tokens/{site.token_id}/revoke"),
        ("history.delete", "POST", f"/history/{receipt}/delete"),  # last: it deletes
    ]


def test_nobody_but_the_owner_reaches_owned_things(site):  # noqa: F811
    failures = []
    requests = owned_requests(site)
    for who in ("anonymous", "other", "staff", "admin"):
        client = site.client(who)
        for endpoint, method, url in requests:
            response = client.open(url, method=method)
            if not denied(response):
                failures.append(f"{who}: {method} {url} → {response.status_code}")
    owner = site.client("owner")
    for endpoint, method, url in requests:
        response = owner.open(url, method=method)
        if not allowed(response):
            failures.append(f"owner: {method} {url} → {response.status_code}")
    assert not failures, "\n".join(failures)


def test_lists_show_only_ones_own_things(site):  # noqa: F811
    receipt, job = site.receipt_id, site.batch_job_id
    for who in ("anonymous", "other", "staff", "admin"):
        client = site.client(who)
        for url, secret in (("/history", receipt), ("/history/export.csv", receipt),
                            ("/batch", job), ("/account/tokens", site.api_token[:10])):
            response = client.get(url)
            assert secret not in response.get_data(as_text=True), (who, url)
    owner = site.client("owner")
    assert receipt in owner.get("/history").get_data(as_text=True)
    assert job in owner.get("/batch").get_data(as_text=True)


@pytest.mark.parametrize("method, url", [
    ("GET", "/account"), ("POST", "/account/password"), ("POST", "/account/delete"),
    ("GET", "/account/tokens"), ("POST", "/account/tokens"), ("GET", "/batch"),
    ("POST", "/batch"),
])
def test_account_pages_ask_anonymous_visitors_to_sign_in(site, method, url):  # noqa: F811
    assert is_login_redirect(site.client("anonymous").open(url, method=method))


def test_deleting_all_of_ones_history_leaves_others_alone(site):  # noqa: F811
    for who in ("anonymous", "other", "staff", "admin"):
        site.client(who).post("/history/delete-all")
    assert site.client("owner").get(f"/history/{site.receipt_id}").status_code == 200


def test_secret_links_work_only_with_the_secret(site):  # noqa: F811
    anyone = site.client("other")
    assert anyone.get(site.feedback_status_path).status_code == 200
    assert anyone.get("/feedback/status/" + "x" * 40).status_code == 404
    for action in ("messages", "contact", "delete"):
        assert anyone.post("/feedback/status/" + "x" * 40 + "/" + action,
                           data={"body": "hi"}).status_code == 404
    assert anyone.get(f"/receipts/{site.receipt_id}?{site.share_query}").status_code == 200
    assert anyone.get(f"/receipts/{site.receipt_id}?k=forged").status_code == 404
    assert anyone.get(site.reset_path).status_code == 200
    assert anyone.get(site.reset_path[:-3] + "abc").status_code == 400


def test_api_batches_need_the_owners_token(site):  # noqa: F811
    client = site.app.test_client()
    url = f"/api/v1/batch/{site.batch_job_id}"
    assert client.get(url).status_code == 401
    assert client.post("/api/v1/batch").status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer yp_forged"}).status_code == 401
    owner = {"Authorization": f"Bearer {site.api_token}"}
    assert client.get(url, headers=owner).status_code == 200

    other = site.client("other")
    other.post("/account/tokens", data={"name": "mine"})
    import re

    token = re.search(r'value="(yp_[^"]+)"', other.get("/account/tokens").get_data(as_text=True))
    response = client.get(url, headers={"Authorization": f"Bearer {token.group(1)}"})
    assert response.status_code == 404
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 404
    # A session cookie is no API credential.
    assert site.client("owner").get(url).status_code == 401
    assert site.client("owner").delete(url).status_code == 401
    assert client.get(url, headers=owner).status_code == 200  # nobody else deleted it
