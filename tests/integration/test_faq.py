"""The FAQ page: topics and anchors, search with and without htmx, "was this helpful?"."""

import re

import pytest
from babel.support import NullTranslations
from flask_babel import Domain

from blueprints.faq_content import QUESTIONS, TOPICS

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true", **EN}


def articles(html: str) -> list[str]:
    return re.findall(r'<article class="faq-item" id="([^"]+)"', html)


def status_text(html: str) -> str:
    return re.search(r'id="faq-search-status"[^>]*>([^<]*)<', html).group(1).strip()


def test_at_least_fifteen_questions_grouped_by_topic_each_linkable(client):
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    slugs = articles(html)
    assert len(slugs) == len(QUESTIONS) >= 15 and len(set(slugs)) == len(slugs)
    assert len(re.findall(r'<section class="faq-topic"', html)) == len(TOPICS) >= 5
    for slug in slugs:
        assert f'href="/faq#{slug}"' in html
    # The contents link to every topic's heading.
    for topic in TOPICS:
        assert f'href="#topic-{topic.slug}"' in html and f'id="topic-{topic.slug}"' in html


def test_answers_use_the_configured_limits_and_show_both_sample_invoices(app, client):
    app.config["YANPIAO_DAILY_LIMIT"] = 7
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    assert "Why can an invoice be checked only 7 times a day?" in html
    assert "%(" not in html
    assert 'id="sample-invoice-title"' in html and 'id="sample-digital-title"' in html
    assert "24312000000136634917" in html  # the fully digital invoice's 20-digit number


@pytest.mark.parametrize("limit, years, language, texts", [
    (1, 1, "en", ["Why can an invoice be checked only 1 time a day?",
                  "After 1 such attempt the invoice",
                  "the registry answers only for the last year."]),
    (3, 2, "ru", ["Почему счёт-фактуру можно проверить только 3 раза в день?",
                  "в лимите — 3 проверки одного счёта-фактуры",
                  "более 2 лет назад", "за последние 2 года"]),
    (21, 21, "ru", ["только 21 раз в день?", "После 21 такой попытки",
                    "за последний 21 год"]),
    (5, 5, "ar", ["لماذا لا يمكن التحقق من الفاتورة إلا 5 مرات يوميًا؟",
                  "ضمن حد 5 عمليات تحقق لكل فاتورة", "آخر 5 سنوات"]),
    (2, 2, "ar", ["إلا مرتين يوميًا؟", "قبل أكثر من سنتين"]),
])
def test_answers_put_configured_numbers_in_the_right_plural_form(app, client, limit, years,
                                                                 language, texts):
    """Russian and Arabic choose the word by the number: "3 проверки", "5 عمليات". Written for
    one number only, the answers said "3 проверок" or "5 عملية" when the limits were set."""
    app.config.update(YANPIAO_DAILY_LIMIT=limit, YANPIAO_MAX_AGE_YEARS=years)
    html = client.get("/faq", headers={"Accept-Language": language}).get_data(as_text=True)
    for text in texts:
        assert text in html


def test_plain_get_search_is_a_full_page(client):
    response = client.get("/faq?q=red-reversed", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert articles(html) == ["voided-and-red-reversed"]
    assert status_text(html) == "1 question matches “red-reversed”."
    assert 'value="red-reversed"' in html  # the search box keeps the query


def test_htmx_search_returns_the_results_fragment(client):
    response = client.get("/faq?q=photo", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and "HX-Request" in response.headers["Vary"]
    assert set(articles(html)) >= {"photos-and-files", "photo-not-read"}
    # The count goes out of band into the status region that stays on the page.
    assert re.search(r'id="faq-search-status"[^>]*hx-swap-oob="true"', html)


def test_the_search_box_searches_as_you_type(client):
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    box = re.search(r'<input type="search"[^>]*>', html, re.S).group(0)
    assert 'hx-get="/faq"' in box and 'hx-target="#faq-results"' in box
    assert "delay:300ms" in box
    assert re.search(r'<form[^>]*method="get" action="/faq"', html)  # works without JS too


@pytest.mark.parametrize("headers", [EN, HTMX], ids=["page", "fragment"])
def test_no_match_says_so(client, headers):
    html = client.get("/faq?q=xylophone", headers=headers).get_data(as_text=True)
    assert articles(html) == []
    assert "No question matches “xylophone”." in html
    assert 'href="/faq"' in html


@pytest.mark.parametrize("query", ["数电", "红冲", "5 times"])
def test_search_finds_chinese_terms_and_numbers(client, query):
    html = client.get("/faq", query_string={"q": query}, headers=EN).get_data(as_text=True)
    assert articles(html)


class OneTranslation(NullTranslations):
    """A catalog that translates two messages of the "Not found" answer."""

    MESSAGES = {
        "Why does it say “Not found”?": "为什么显示“查无此票”？",
        "No invoice with that code and number is in the registry. Most often a digit was "
        "mistyped: compare the code and the number with the invoice digit by digit, or scan "
        "the QR code.": "登记簿里没有这个代码和号码的发票，多半是输错了一位。",
    }

    def gettext(self, message):
        return self.MESSAGES.get(message, message)

    def ngettext(self, singular, plural, n):
        return singular if n == 1 else plural

    ugettext, ungettext = gettext, ngettext


class OneDomain(Domain):
    def get_translations(self):
        return OneTranslation()


def test_search_matches_the_text_in_the_readers_language(app, client, monkeypatch):
    from blueprints.ext import babel

    monkeypatch.setitem(babel.__dict__, "domain_instance", OneDomain())
    found = client.get("/faq", query_string={"q": "输错"}, headers=EN).get_data(as_text=True)
    assert articles(found) == ["not-found"] and "为什么显示“查无此票”？" in found
    # The English words of the translated answer are not what this reader sees.
    gone = client.get("/faq", query_string={"q": "mistyped"}, headers=EN).get_data(as_text=True)
    assert articles(gone) == []


def votes(app, slug):
    with app.app_context():
        from blueprints.ext import db
        from yanpiao.faq import vote_counts

        return vote_counts(db.session, [slug])[slug]


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_vote_without_javascript_redirects_to_the_answer(no_csrf, client):
    response = client.post("/faq/daily-limit/vote", data={"helpful": "yes", "q": "limit"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/faq?q=limit#daily-limit"
    assert votes(no_csrf, "daily-limit") == (1, 0)
    html = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    answer = html.split('id="daily-limit"', 1)[1].split("</article>", 1)[0]
    assert "Thank you for telling us." in answer and "<form" not in answer


def test_vote_with_htmx_returns_the_thanks_fragment(no_csrf, client):
    response = client.post("/faq/not-found/vote", data={"helpful": "no"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Sorry this answer did not help." in html and 'href="/feedback"' in html
    assert votes(no_csrf, "not-found") == (0, 1)


def test_one_browser_counts_once_per_answer(no_csrf, client):
    for helpful in ("yes", "yes", "no"):
        client.post("/faq/languages/vote", data={"helpful": helpful}, headers=HTMX)
    assert votes(no_csrf, "languages") == (1, 0)
    other_browser = no_csrf.test_client()
    other_browser.post("/faq/languages/vote", data={"helpful": "no"})
    assert votes(no_csrf, "languages") == (1, 1)


@pytest.mark.parametrize("slug, data, status", [
    ("no-such-question", {"helpful": "yes"}, 404),
    ("languages", {"helpful": "maybe"}, 400),
    ("languages", {}, 400),
])
def test_bad_votes_are_refused(no_csrf, client, slug, data, status):
    assert client.post(f"/faq/{slug}/vote", data=data).status_code == status
    assert votes(no_csrf, "languages") == (0, 0)


def test_a_vote_needs_the_csrf_token(app, client):
    assert client.post("/faq/languages/vote", data={"helpful": "yes"}).status_code == 400
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/faq/languages/vote", data={"helpful": "yes", "csrf_token": token})
    assert response.status_code == 303 and votes(app, "languages") == (1, 0)


def test_the_privacy_answers_give_the_retention_periods_that_apply(app, client):
    app.config["YANPIAO_HISTORY_RETENTION_DAYS"] = 90
    app.config["YANPIAO_FEEDBACK_RETENTION_DAYS"] = 200
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    assert "Every check is deleted 90 days after it was made" in html
    assert "it is deleted after 200 days, with our conversation" in html
    app.config["YANPIAO_HISTORY_RETENTION_DAYS"] = 0
    app.config["YANPIAO_FEEDBACK_RETENTION_DAYS"] = 0
    html = client.get("/faq", headers=EN).get_data(as_text=True)
    assert "Every check is deleted" not in html and "it is deleted after" not in html
    assert "What happens to what I write in a feedback report?" in html
