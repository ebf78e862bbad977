"""The strict CSP allows no inline code: crawl every GET route, as every kind of person, as a
full page and as an htmx fragment, and fail on anything the browser would block.

The crawl starts from every GET route of ``app.url_map`` (with ids from a populated site) and
follows the links and hx-get targets it finds. A GET route that no crawl reached fails the
test until it gets a start URL below, or is listed as not HTML.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from site_fixtures import site  # noqa: F401  (fixture)

# GET endpoints whose answers are not HTML pages (files, JSON, images): nothing to check.
NOT_HTML = {
    "api.openapi", "api.batch_status", "health.healthz", "health.readyz",
    "history.export", "batch.download", "batch.template", "receipts.pdf", "receipts.text",
    "receipts.public_key", "staff.report_csv", "stats.export", "kiosk.preview",
}
MAX_PAGES_PER_PERSON = 160
MAX_QUERY_VARIANTS = 3  # per endpoint: pagination and filter links are alike


class InlineCodeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self.fragments: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower(
            ).startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("hx-get"):
            self.fragments.append(attributes["hx-get"])


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    if not parts.path.startswith("/") or parts.path.startswith("/assets/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start_urls(site) -> list[str]:
    """Every GET route without arguments, plus the ones with ids of the populated site."""
    app = site.app
    urls = [rule.rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.arguments]
    urls += [
        f"/verify/results/{site.receipt_id}", f"/history/{site.receipt_id}",
        f"/receipts/{site.receipt_id}", f"/receipts/{site.receipt_id}?{site.share_query}",
        f"/batch/{site.batch_job_id}", site.feedback_status_path,
        f"/staff/feedback/{site.ticket_number}",
        f"/staff/registry/invoices/{site.invoice_id}",
        f"/staff/registry/imports/{site.import_job_id}", site.reset_path,
        "/verify/fields?invoice_code=011002400104", "/faq?q=amount",
        "/kiosk/scan", "/kiosk/keypad", "/nowhere-at-all",
    ]
    return urls


def crawl(site, who: str, problems: dict, reached: Counter) -> None:
    client = site.fresh_client(who)
    if who == "anonymous":
        client.post("/kiosk/start")  # a kiosk visit, so its screens render
    adapter = site.app.url_map.bind("localhost")
    queue = [(url, False) for url in start_urls(site)]
    seen: set[tuple[str, bool]] = set()
    variants: Counter = Counter()
    while queue and len(seen) < MAX_PAGES_PER_PERSON:
        url, as_fragment = queue.pop(0)
        if (url, as_fragment) in seen:
            continue
        path, _, query = url.partition("?")
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except Exception:  # noqa: BLE001 - a 404 or 405 page is still a page to check
            endpoint = "<no route>"
        if endpoint in NOT_HTML:
            continue
        if query:
            variants[endpoint] += 1
            if variants[endpoint] > MAX_QUERY_VARIANTS:
                continue
        seen.add((url, as_fragment))
        headers = {"HX-Request": "true"} if as_fragment else {}
        response = client.get(url, headers=headers)
        if response.status_code < 400:
            reached[endpoint] += 1
        if "text/html" not in response.content_type:
            continue
        finder = InlineCodeFinder()
        finder.feed(response.get_data(as_text=True))
        for problem in finder.problems:
            problems.setdefault(f"{problem} (as {who}: GET {url}"
                                f"{' as htmx fragment' if as_fragment else ''})", True)
        for link in finder.links:
            if (local := _local(link)) is not None:
                queue.append((local, False))
        for target in finder.fragments:
            if (local := _local(target)) is not None:
                queue.append((local, True))
        if not as_fragment:
            queue.append((url, True))


def test_no_page_or_fragment_has_inline_script_or_style(site):  # noqa: F811
    problems: dict[str, bool] = {}
    reached: Counter = Counter()
    for who in ("anonymous", "owner", "admin"):
        crawl(site, who, problems, reached)
    assert not problems, "the CSP blocks these:\n" + "\n".join(sorted(problems))

    html_routes = {
        rule.endpoint for rule in site.app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint not in NOT_HTML
    }
    missed = sorted(html_routes - set(reached))
    assert not missed, (
        f"no crawl reached {missed}: add a start URL in start_urls() or list it in NOT_HTML"
    )


# Pages shown after a refused form: error summaries and inline messages are templates too.
REFUSED_FORMS = [
    ("anonymous", "/verify", {"invoice_code": "12", "invoice_number": "x", "issue_date": "soon"}),
    ("anonymous", "/verify/scan", {"qr": "https://example.com/not-an-invoice"}),
    ("anonymous", "/feedback", {"category": "nonsense", "message": ""}),
    ("anonymous", "/login", {"login": "", "password": ""}),
    ("anonymous", "/register", {"login": "not an address", "password": "x"}),
    ("anonymous", "/password/forgot", {"email": "nope"}),
    ("anonymous", "/receipts/check", {"receipt": "garbage"}),
    ("owner", "/batch", {}),
    ("owner", "/account/password", {"current": "wrong", "password": "x"}),
    ("admin", "/staff/users", {"email": "bad"}),
]


def test_refused_forms_have_no_inline_code(site):  # noqa: F811
    problems = []
    for who, url, data in REFUSED_FORMS:
        for headers in ({}, {"HX-Request": "true"}):
            response = site.fresh_client(who).post(url, data=data, headers=headers)
            assert response.status_code < 500, (url, headers)
            finder = InlineCodeFinder()
            finder.feed(response.get_data(as_text=True))
            problems += [f"{problem} (POST {url} {headers})" for problem in finder.problems]
    assert not problems
