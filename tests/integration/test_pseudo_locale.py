"""Every page under a pseudo-translation: visible text that is not ⟦wrapped⟧ bypassed the catalog.

The pseudo-translation wraps each message of a fresh extraction of the code (what `make
translations` would put in messages.pot) in ⟦…⟧. Text that stays unwrapped was either never
passed through gettext, or passed a string no extraction can see (``_(variable)``); both would
stay untranslated in every language.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from babel.dates import get_day_names, get_month_names, get_period_names
from babel.support import NullTranslations
from flask_babel import Domain

from factories import TODAY, invoice_record
from i18n_catalogs import extract_template, key, listing, short
from yanpiao.accounts import Role

OPEN, CLOSE = "⟦", "⟧"
WRAPPED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
LOCALE = "en"  # any locale: the pseudo-translation replaces the catalog, Babel still formats

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "param", "source", "track", "wbr"}
# Their content is not text for people to read, or is data by construction.
SKIPPED_ELEMENTS = {
    "script": "code, not text",
    "style": "code, not text",
    "code": "codes, numbers and commands typed as shown",
    "template": "not rendered",
}
# Attributes whose values people read or hear.
TEXT_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description",
                   "aria-roledescription", "aria-valuetext", "data-label"}

# Deliberate exceptions: (what, why, test on the element and its ancestors).
ALLOW = [
    ("brand 验票", "the brand is a name, the same in every language",
     lambda el, up: el.attrs.get("lang") == "zh-Hans" and any(has_class(a, "brand") for a in up)),
    ("language names in the switcher", "each language is named in itself",
     lambda el, up: "lang" in el.attrs and any(has_class(a, "language-menu") for a in up)),
    ("the sample invoice picture", "it reproduces what is printed on a Chinese invoice",
     lambda el, up: el.tag == "text" and el.attrs.get("lang") == "zh-Hans"
     and any(has_class(a, "sample-invoice") for a in up)),
    ("aria-hidden", "hidden from assistive technology and decorative (icons, spinners)",
     lambda el, up: el.attrs.get("aria-hidden") == "true"),
    ("<bdi dir=ltr>", "the `ltr` filter and money(): codes, numbers and amounts",
     lambda el, up: el.tag == "bdi" and el.attrs.get("dir") == "ltr"),
    ("OpenAPI descriptions on /developers", "the API document itself is English (lang=en)",
     lambda el, up: el.attrs.get("lang") == "en" and has_class(el, "api-doc-text")),
]


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]):
        self.tag, self.attrs = tag, attrs


def has_class(el: Element, name: str) -> bool:
    return name in (el.attrs.get("class") or "").split()


class TextCollector(HTMLParser):
    """The document's readable text as one stream (wrappers may span elements) and attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[Element] = []
        self.skip_depth: int | None = None
        self.stream: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        el = Element(tag, {k: v or "" for k, v in attrs})
        if self.skip_depth is None:
            self._attributes(el)
        if tag in VOID_ELEMENTS:
            return
        self.stack.append(el)
        if self.skip_depth is None and self._skipped(el):
            self.skip_depth = len(self.stack)

    def handle_startendtag(self, tag, attrs):
        el = Element(tag, {k: v or "" for k, v in attrs})
        if self.skip_depth is None:
            self._attributes(el)

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS:
            return
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break
        if self.skip_depth is not None and len(self.stack) < self.skip_depth:
            self.skip_depth = None
        self.stream.append("\n")

    def handle_data(self, data):
        if self.skip_depth is None:
            self.stream.append(data)

    def _skipped(self, el: Element) -> bool:
        if el.tag in SKIPPED_ELEMENTS:
            return True
        up = self.stack[:-1]
        return any(test(el, up) for _what, _why, test in ALLOW)

    def _attributes(self, el: Element):
        for name, value in el.attrs.items():
            readable = name in TEXT_ATTRIBUTES or (
                name.startswith("data-") and name.endswith("-message")
            ) or (name == "value" and el.tag == "input"
                  and el.attrs.get("type") in ("submit", "button", "reset"))
            if readable and value.strip():
                self.attributes.append((f"<{el.tag} {name}>", value))


class Checker:
    def __init__(self, data_strings: set[str]):
        # Longest first, so a name is removed before a shorter name inside it.
        self.data = sorted((s for s in data_strings if s and s.strip()), key=len, reverse=True)
        names = set()
        for width in ("wide", "abbreviated"):
            names |= set(get_month_names(width, locale=LOCALE).values())
            names |= set(get_day_names(width, locale=LOCALE).values())
        names |= set(get_period_names(locale=LOCALE).values())
        words = sorted(map(re.escape, names), key=len, reverse=True)
        self.date_words = re.compile(r"\b(?:%s)\b" % "|".join(words))

    def leftovers(self, text: str) -> list[str]:
        """Pieces of ``text`` with letters that no ⟦…⟧ wrapper covers and no data explains."""
        previous = None
        while previous != text:
            previous, text = text, WRAPPED.sub(" ", text)
        for value in self.data:
            text = text.replace(value, " ")
        text = self.date_words.sub(" ", text)
        pieces = []
        for line in text.splitlines():
            if any(ch.isalpha() for ch in line):
                pieces.append(" ".join(line.split()))
        return pieces

    def check_html(self, html: str) -> list[str]:
        parser = TextCollector()
        parser.feed(html)
        parser.close()
        problems = [f"text: {short(p, 90)}" for p in self.leftovers("".join(parser.stream))]
        for where, value in parser.attributes:
            problems += [f"{where}: {short(p, 80)}" for p in self.leftovers(value)]
        return problems


class PseudoTranslations(NullTranslations):
    """Wraps every message the extraction knows; anything else passes through unchanged."""

    def __init__(self, known: set[tuple[str | None, str]]):
        super().__init__()
        self.known = known

    def _wrap(self, context, msgid, text):
        return f"{OPEN}{text}{CLOSE}" if (context, msgid) in self.known else text

    def gettext(self, message):
        return self._wrap(None, message, message)

    def ngettext(self, singular, plural, n):
        return self._wrap(None, singular, singular if n == 1 else plural)

    def pgettext(self, context, message):
        return self._wrap(context, message, message)

    def npgettext(self, context, singular, plural, n):
        return self._wrap(context, singular, singular if n == 1 else plural)

    ugettext, ungettext, upgettext, unpgettext = gettext, ngettext, pgettext, npgettext


class PseudoDomain(Domain):
    def __init__(self, translations):
        super().__init__()
        self.pseudo = translations

    def get_translations(self):
        return self.pseudo


@pytest.fixture(scope="module")
def pseudo_translations(tmp_path_factory):
    catalog = extract_template(tmp_path_factory.mktemp("pseudo"))
    return PseudoTranslations({key(m) for m in catalog if m.id})


@pytest.fixture
def pseudo(app, monkeypatch, pseudo_translations):
    """The app speaking pseudo; the real catalogs are untouched (Babel caches them per process)."""
    from blueprints.ext import babel

    # domain_instance is a cached property of the one Babel object: replace what it caches.
    monkeypatch.setitem(babel.__dict__, "domain_instance", PseudoDomain(pseudo_translations))
    app.config["WTF_CSRF_ENABLED"] = False
    return app


RECORDS = {
    "valid": invoice_record(),
    "void": invoice_record(invoice_number="22345678", status="void",
                           remarks="订单号 2024-88", drawer="李雷"),
    "limit": invoice_record(invoice_number="32345678"),
}
STAFF_EMAIL = "staff@example.com"


def strings_of(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(strings_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(strings_of(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


@pytest.fixture
def checker():
    data = strings_of(RECORDS) | {STAFF_EMAIL}
    return Checker(data)


def fields_of(record: dict, **changes) -> dict:
    fields = {
        "invoice_code": record["invoice_code"],
        "invoice_number": record["invoice_number"],
        "issue_date": record["issue_date"],
        "check_code": record["check_code"][-6:],
    }
    fields.update(changes)
    return fields


VERIFY_STATES = {
    "errors": {"invoice_number": "123"},
    "empty": {},
    "valid": fields_of(RECORDS["valid"]),
    "void": fields_of(RECORDS["void"]),
    "mismatch": fields_of(RECORDS["valid"], check_code="000000"),
    "not found": fields_of(RECORDS["valid"], invoice_number="99999999"),
    "limit": fields_of(RECORDS["limit"]),
    "too old": fields_of(RECORDS["valid"],
                         issue_date=(TODAY - timedelta(days=6 * 366)).isoformat()),
    "future": fields_of(RECORDS["valid"], issue_date=(TODAY + timedelta(days=3)).isoformat()),
}


@pytest.fixture
def registry(pseudo, make_invoice):
    for record in RECORDS.values():
        make_invoice(**record)
    pseudo.config["YANPIAO_DAILY_LIMIT"] = 3
    client = pseudo.test_client()
    for _ in range(3):  # the limit invoice has been checked as often as a day allows
        client.post("/verify", data=fields_of(RECORDS["limit"]))
    pseudo.config["YANPIAO_DAILY_LIMIT"] = 1000


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = LOCALE
    return client


def report(problems_by_page: dict[str, list[str]]) -> str:
    lines = [f"{page} — {problem}" for page, problems in problems_by_page.items()
             for problem in problems]
    return (f"{len(lines)} piece(s) of visible text did not go through the catalog "
            f"(wrap them in _() / ngettext, or allow-list them with a reason in ALLOW):\n"
            + listing(lines))


def check(checker, problems: dict, name: str, response) -> None:
    if response.status_code >= 500:
        problems[name] = [f"server error {response.status_code}"]
    elif response.mimetype == "text/html":
        found = checker.check_html(response.get_data(as_text=True))
        if found:
            problems[name] = list(dict.fromkeys(found))  # once per page is enough


@pytest.mark.parametrize("state", VERIFY_STATES)
def test_verify_page_in_every_state(state, registry, client, checker):
    english(client)
    problems = {}
    for mode, headers in (("page", {}), ("fragment", {"HX-Request": "true"})):
        response = client.post("/verify", data=VERIFY_STATES[state], headers=headers,
                               follow_redirects=True)
        check(checker, problems, f"verify {state} ({mode})", response)
    if problems:
        pytest.fail(report(problems), pytrace=False)


def receipt_of(client) -> str:
    response = client.post("/verify", data=VERIFY_STATES["valid"])
    assert response.status_code == 303, response.status_code
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def readable_routes(app, arguments: dict[str, str]):
    """GET routes of the site whose arguments we can fill: (endpoint, url)."""
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint.split(".")[0] in ("api", "health"):
                continue
            if not set(rule.arguments) <= set(arguments):
                continue  # e.g. a reset token or an export format: not a page of its own
            yield rule.endpoint, url_for(rule.endpoint, **{a: arguments[a] for a in rule.arguments})


@pytest.mark.parametrize("audience", ["visitor", "staff"])
def test_every_page(audience, pseudo, registry, client, checker, make_user, login):
    english(client)
    if audience == "staff":
        login(client, make_user(email=STAFF_EMAIL, role=Role.ADMIN))
    arguments = {"receipt_id": receipt_of(client)}
    problems = {}
    for endpoint, url in readable_routes(pseudo, arguments):
        for mode, headers in (("page", {}), ("fragment", {"HX-Request": "true"})):
            check(checker, problems, f"{url} ({mode})",
                  client.get(url, headers=headers, follow_redirects=True))
    if problems:
        pytest.fail(report(problems), pytrace=False)


def test_error_pages(pseudo, client, checker):
    english(client)
    problems = {}
    check(checker, problems, "404", client.get("/no-such-page"))
    check(checker, problems, "405", client.delete("/verify"))
    pseudo.config["WTF_CSRF_ENABLED"] = True
    check(checker, problems, "expired form", client.post("/login", data={"login": "a@b.cn"}))
    check(checker, problems, "expired verify form", client.post("/verify", data={}))
    if problems:
        pytest.fail(report(problems), pytrace=False)


def test_api_messages(pseudo, client, checker):
    response = english(client).post("/api/v1/verify",
                                    json={"invoice_number": "1", "issue_date": "2024-13-40"})
    assert response.status_code < 500
    body = response.get_json()
    texts = list((body.get("errors") or {}).values()) + [body[k] for k in ("message",) if k in body]
    assert texts, body
    problems = [p for text in texts for p in checker.leftovers(str(text))]
    assert not problems, problems


def test_the_checker_finds_text_that_bypassed_the_catalog(pseudo_translations):
    checker = Checker({"北京星河科技有限公司"})
    html = (
        '<html lang="en"><head><title>⟦Verify⟧ · ⟦Yanpiao⟧</title></head><body>'
        '<a class="brand" href="/"><span lang="zh-Hans">验票</span></a>'
        '<p>⟦Issued by: ⟦Beijing⟧⟧ <bdi dir="ltr">CN¥1.00</bdi> October 25, 2024</p>'
        '<dd>北京星河科技有限公司</dd><p>⟦Run <code>flask seed</code> now.⟧</p>'
        '<p>Hard-coded words</p><p>硬编码</p><button aria-label="Close">×</button>'
        '<script>var x = "not text";</script><img src="x.png" alt="⟦A picture⟧">'
        '</body></html>'
    )
    assert checker.check_html(html) == [
        "text: Hard-coded words", "text: 硬编码", "<button aria-label>: Close",
    ]
