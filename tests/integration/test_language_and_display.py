"""Which language a visitor gets, how they change it, and the large-text, high-contrast mode."""

from __future__ import annotations

import re

import pytest
from flask_login import login_user

from blueprints.i18n import remember_locale_for
from blueprints.settings import LANGUAGES
from yanpiao.accounts import User


@pytest.fixture
def client(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(("header", "expected"), [
    ("ja-JP,ja;q=0.9,en;q=0.5", "ja"),
    ("ko", "ko"),
    ("ru-RU", "ru"),
    ("ar-EG,ar;q=0.9", "ar"),
    ("en-GB,en;q=0.8", "en"),
    ("zh-TW", "zh-Hans"),
    ("de-DE,fr;q=0.5", "zh-Hans"),  # nothing we speak: the default
    ("", "zh-Hans"),
])
def test_accept_language_decides_when_nothing_was_chosen(client, header, expected):
    response = client.get("/verify", headers={"Accept-Language": header})
    assert lang_of(response) == expected


def test_arabic_pages_run_right_to_left_and_the_others_left_to_right(client):
    assert 'dir="rtl"' in html_tag(client.get("/verify", headers={"Accept-Language": "ar"}))
    assert 'dir="ltr"' in html_tag(client.get("/verify", headers={"Accept-Language": "ja"}))


def test_the_switcher_names_each_language_in_itself(client):
    page = client.get("/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for code, (name, direction) in LANGUAGES.items():
        tag = code.replace("_", "-")
        assert re.search(
            rf'<button type="submit" name="lang" value="{code}" lang="{tag}" dir="{direction}"'
            rf'[^>]*>{name}</button>', page), code
    assert 'value="en" lang="en" dir="ltr" aria-current="true"' in page


def test_choosing_a_language_holds_for_the_session_and_later_visits(app, client):
    response = client.post("/language", data={"lang": "ar", "next": "/samples?x=1"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/samples?x=1"
    cookie = client.get_cookie("lang")
    assert cookie.value == "ar" and cookie.http_only
    assert lang_of(client.get("/verify", headers={"Accept-Language": "en"})) == "ar"
    # A new session (the session cookie gone) still remembers through the language cookie.
    later = app.test_client()
    later.set_cookie("lang", "ar")
    assert lang_of(later.get("/verify", headers={"Accept-Language": "en"})) == "ar"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_switcher_never_redirects_off_the_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.headers["Location"] == "/verify"


@pytest.mark.parametrize(("target", "page"), [
    ("/verify/scan", "/verify"),
    ("/feedback/status/some-token/messages", "/feedback/status/some-token"),
    ("/samples?x=1", "/samples?x=1"),
    ("/no/such/page", "/verify"),
])
def test_after_a_post_the_switcher_returns_to_a_page_that_opens(client, target, page):
    """A page shown in answer to a post names the post's address: switching the language
    there answered 405 "That action is not possible here"."""
    response = client.post("/language", data={"lang": "ko", "next": target})
    assert response.headers["Location"] == page
    assert client.get(page, follow_redirects=True).status_code in (200, 404)


def test_a_language_switch_after_the_session_expired_still_switches(app, make_user, login,
                                                                    session):
    """It answered the 400 page saying "Nothing was lost", in the old language. Without a
    valid token the choice holds for the browser but is not stored in the account."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/language", data={"lang": "ru", "next": "/faq"})
    assert response.status_code == 303 and response.headers["Location"] == "/faq"
    assert lang_of(client.get("/faq")) == "ru"
    user_id = make_user()
    login(client, user_id)
    client.post("/language", data={"lang": "ja", "next": "/faq"})
    assert lang_of(client.get("/faq")) == "ja"
    session.expire_all()
    assert session.get(User, user_id).locale != "ja"


def test_an_unknown_language_changes_nothing(client):
    client.post("/language", data={"lang": "xx"})
    assert client.get_cookie("lang") is None
    assert lang_of(client.get("/verify", headers={"Accept-Language": "ko"})) == "ko"


def test_the_api_follows_accept_language_only(client):
    client.post("/language", data={"lang": "ru"})
    response = client.post("/api/v1/verify", json={"invoice_number": "1"},
                           headers={"Accept-Language": "en"})
    assert "Enter" in " ".join(response.get_json()["errors"].values())


def test_a_signed_in_account_gets_its_stored_language(app, client, make_user, login, session):
    user_id = make_user()
    session.get(User, user_id).locale = "ko"
    session.commit()
    login(client, user_id)
    assert lang_of(client.get("/verify", headers={"Accept-Language": "en"})) == "ko"


def test_choosing_a_language_while_signed_in_stores_it_in_the_account(app, client, make_user,
                                                                     login, session):
    user_id = make_user()
    login(client, user_id)
    client.post("/language", data={"lang": "ru"})
    session.expire_all()
    assert session.get(User, user_id).locale == "ru"


def test_signing_in_applies_the_accounts_language(app, make_user, session):
    user_id = make_user()
    session.get(User, user_id).locale = "ja"
    session.commit()
    with app.test_request_context("/login", method="POST", headers={"Accept-Language": "en"}):
        from flask import session as flask_session
        from flask_babel import get_locale

        flask_session["lang"] = "en"  # chosen before signing in
        user = session.get(User, user_id)
        login_user(user)
        remember_locale_for(user)
        assert flask_session["lang"] == "ja"
        assert str(get_locale()) == "ja"
        response = app.process_response(app.response_class("ok"))
    assert "lang=ja" in response.headers["Set-Cookie"]


def test_signing_in_keeps_the_language_chosen_before_when_the_account_has_none(app, make_user,
                                                                              session):
    user_id = make_user()
    with app.test_request_context("/login", method="POST"):
        from flask import session as flask_session

        flask_session["lang"] = "ar"
        user = session.get(User, user_id)
        login_user(user)
        remember_locale_for(user)
    session.expire_all()
    assert session.get(User, user_id).locale == "ar"



def test_strings_follow_a_language_change_within_the_request(app, make_user, session):
    """Signing in switches to the account's language: what is rendered after that speaks it."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    user_id = make_user()
    session.get(User, user_id).locale = "ja"
    session.commit()
    template = "{{ _('Verify an invoice') }}|{% import 'macros/pagination.html' as p %}"
    with app.test_request_context("/login", method="POST", headers={"Accept-Language": "en"}):
        assert gettext("Verify an invoice") == "Verify an invoice"
        assert render_template_string(template).startswith("Verify an invoice|")
        user = session.get(User, user_id)
        login_user(user)
        remember_locale_for(user)
        japanese = gettext("Verify an invoice")
        assert japanese != "Verify an invoice"
        assert render_template_string(template).startswith(japanese + "|")
        with force_locale("ru"):
            russian = gettext("Verify an invoice")
            assert russian not in ("Verify an invoice", japanese)
            assert render_template_string(template).startswith(russian + "|")
        assert gettext("Verify an invoice") == japanese
        assert render_template_string(template).startswith(japanese + "|")


# --- large text, high contrast ---------------------------------------------------------------


def test_the_display_toggle_is_a_plain_form_in_the_header(client):
    page = client.get("/verify").get_data(as_text=True)
    form = re.search(r'<form class="display-toggle" method="post" action="/display">.*?</form>',
                     page, re.S).group(0)
    assert 'name="csrf_token"' in form
    assert 'name="contrast" value="on" aria-pressed="false"' in form
    assert "class=" not in html_tag(client.get("/verify"))


def test_switching_high_contrast_on_and_off(app, client):
    response = client.post("/display", data={"contrast": "on", "next": "/samples"})
    assert response.status_code == 303 and response.headers["Location"] == "/samples"
    page = client.get("/verify")
    assert 'class="theme-contrast"' in html_tag(page)
    assert 'name="contrast" value="off" aria-pressed="true"' in page.get_data(as_text=True)
    later = app.test_client()  # a later visit: the cookie remembers
    later.set_cookie("contrast", "on")
    assert 'class="theme-contrast"' in html_tag(later.get("/verify"))

    client.post("/display", data={"contrast": "off"})
    # Off explicitly: the system's prefers-contrast no longer switches it on either.
    assert 'class="theme-standard"' in html_tag(client.get("/verify"))


def test_the_display_toggle_works_on_a_page_whose_session_expired(app):
    """It answered the 400 page ("Nothing was lost") and left the display as it was."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/display", data={"contrast": "on", "next": "/faq"})
    assert response.status_code == 303 and response.headers["Location"] == "/faq"
    assert 'class="theme-contrast"' in html_tag(client.get("/verify"))


def test_the_stylesheet_has_the_contrast_theme_and_honours_system_preferences(app):
    from pathlib import Path

    css = (Path(app.root_path) / "static" / "css" / "site.css").read_text()
    assert ":root.theme-contrast" in css
    assert "@media (prefers-contrast: more)" in css and ":root:not(.theme-standard)" in css
    assert "@media (prefers-reduced-motion: reduce)" in css
    # Right-to-left layout comes from logical properties only.
    physical = re.findall(r"(?<![-\w])(?:margin|padding|border)-(?:left|right)\b|"
                          r"(?<![-\w])(?:left|right)\s*:|text-align:\s*(?:left|right)|"
                          r"float:\s*(?:left|right)", css)
    assert physical == []
