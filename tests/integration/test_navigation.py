"""The header's navigation marks the one entry the page belongs to as the current page."""

import re

import pytest

from yanpiao.accounts import Role


def current_entries(html: str) -> list[str]:
    header = html.split("<nav", 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', header)


@pytest.fixture
def english(app):
    def client():
        client = app.test_client()
        client.set_cookie("lang", "en")
        return client

    return client


@pytest.mark.parametrize("path, expected", [
    ("/verify", ["Verify"]),
    ("/samples", ["Demo invoices"]),
    ("/history", ["History"]),
    ("/faq", ["Help"]),
    ("/feedback", ["Feedback"]),
    ("/login", ["Sign in"]),  # not "Create an account" too, though both are account pages
    ("/register", ["Create an account"]),
    ("/password/forgot", []),
    ("/developers", []),
])
def test_visitors_see_one_current_entry(english, path, expected):
    response = english().get(path)
    assert response.status_code == 200
    assert current_entries(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("path, expected", [
    ("/account", ["Your account"]),  # not "Sign out" as well
    ("/logout", ["Sign out"]),
    ("/account/tokens", ["Your account"]),
    ("/batch", ["Batch check"]),
    ("/staff", ["Staff"]),
    ("/staff/feedback", ["Staff"]),
    ("/staff/registry/", ["Staff"]),
    ("/staff/stats", ["Statistics"]),
])
def test_signed_in_staff_see_one_current_entry(english, make_user, login, path, expected):
    client = login(english(), make_user(email="staff@example.com", role=Role.ADMIN))
    response = client.get(path)
    assert response.status_code == 200, path
    assert current_entries(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("path", ["/verify", "/samples", "/history", "/faq", "/feedback",
                                  "/login", "/register", "/password/forgot", "/developers",
                                  "/kiosk"])
def test_every_id_on_a_page_is_its_own(english, make_invoice, path):
    """A hint and a radio's hint shared "category-hint": a screen reader read the group's hint
    for the first choice. aria-describedby and label for= find the first element with an id."""
    make_invoice()
    html = english().get(path).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and not [i for i in set(ids) if ids.count(i) > 1], path
