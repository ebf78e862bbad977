"""WCAG 2.2 AA in the real browser: axe-core on every page, state and language, plus the layout,
target-size, focus, contrast-theme and motion checks axe cannot make.

Every page state is one row of STATES, with how to reach it; a row whose route the site does not
serve fails.
``test_every_page_is_in_the_table`` fails when the site serves an HTML page no row covers.

Artefacts: artifacts/screenshots/<lang>/<state>-<width>x<height>.png for every row and language
(the screen at 360×640, 1280×800 and 1080×1920; for Arabic also the whole page on the phone,
"-whole"), contrast-ar/ for the high-contrast theme, text-200-<lang>/ for doubled text, and
artifacts/axe-report.md with the violations per row and language.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.base import AXE_SCRIPT  # the axe-core the package bundles

from blueprints.settings import LANGUAGES
from factories import TODAY, invoice_record
from page_checks import (
    CLIPPED_CHART_TEXT,
    CROOKED_BREADCRUMBS,
    FOCUS_INDICATOR,
    LABELS_APART,
    SMALL_CHART_TEXT,
    SMALL_TARGETS,
    SQUEEZED_CELLS,
    UNEVEN_BUTTON_ROWS,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SHOTS = ARTIFACTS / "screenshots"
LANGS = list(LANGUAGES)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"phone": (360, 640), "desktop": (1280, 800), "kiosk": (1080, 1920)}
NARROWEST = 320
WEB_TARGET, KIOSK_TARGET = 44, 64
CHART_TEXT = 11  # px, the smallest chart label on a phone
PASSWORD = "correct horse battery staple"

# Invoices of their own: other browser tests count the checks of the default one.
RECORDS = {
    "valid": invoice_record(invoice_number="71234567"),
    "void": invoice_record(invoice_number="71234568", status="void"),
    "limit": invoice_record(invoice_number="71234569"),
}


def fields(record: dict, **changes) -> dict:
    values = {"invoice_code": record["invoice_code"], "invoice_number": record["invoice_number"],
              "issue_date": record["issue_date"], "check_code": record["check_code"][-6:]}
    values.update(changes)
    return values


VERIFY = {
    "valid": fields(RECORDS["valid"]),
    "void": fields(RECORDS["void"]),
    "mismatch": fields(RECORDS["valid"], check_code="000000"),
    "not-found": fields(RECORDS["valid"], invoice_number="99999999"),
    "limit": fields(RECORDS["limit"]),
    "too-old": fields(RECORDS["valid"], issue_date=(TODAY - timedelta(days=6 * 366)).isoformat()),
}


# --- how to reach each state ------------------------------------------------------------------


# A reach function prepares a state in a Site and returns the path to open, or None when it
# opened the page and brought it into its state itself (typing, clicking).


def goto(path: str) -> Callable:
    def reach(site: Site) -> str:
        return path

    return reach


def verified(kind: str, then: str = "") -> Callable:
    """The result page of a verification made in this browser (``then``: a page about it)."""

    def reach(site: Site) -> str:
        receipt = site.verify(kind)
        return then.format(receipt=receipt) if then else f"/verify/results/{receipt}"

    return reach


def reported(then: str = "") -> Callable:
    """The private status page of a report sent from this browser with a contact (``then``:
    a page about it, after its path)."""

    def reach(site: Site) -> str:
        form = site.context.request.get("/feedback").text()
        key = re.search(r'name="submission" value="([^"]+)"', form).group(1)
        response = site.context.request.post("/feedback", form={
            "csrf_token": site.csrf(), "submission": key, "category": "scanning",
            "message": "The camera does not read the QR code.",
            "contact": "reporter@a11y.example", "consent": "y"})
        assert "/feedback/status/" in response.url, f"report ended on {response.url}"
        return response.url.removeprefix(site.base_url) + then

    return reach


def staff_ticket(then: str = "") -> Callable:
    """The staff page of a report sent from this (staff) browser (``then``: after its path)."""
    report = reported()

    def reach(site: Site) -> str:
        status_page = site.context.request.get(report(site)).text()
        number = re.search(r"FB-\d{4}-\d{6}", status_page).group(0)
        return f"/staff/feedback/{number}{then}"

    return reach


def staff_deleted_ticket(site: Site) -> str:
    """The page an old link to a ticket this (staff) browser deleted now shows."""
    path = staff_ticket()(site)
    response = site.context.request.post(f"{path}/delete", form={"csrf_token": site.csrf()})
    assert response.url.endswith("/staff/feedback"), f"delete ended on {response.url}"
    return path


def last_admin_account(site: Site) -> str:
    """The account page of the only active administrator: a notice instead of the delete form."""
    html = site.context.request.get("/account").text()
    assert 'href="/staff/users"' in html and 'action="/account/delete"' not in html, (
        "the a11y staff account is not the only active administrator")
    return "/account"


def batch_checked(then: str = "", more: str = "") -> Callable:
    """A finished batch of this account (``then``: a page about it, after its path; ``more``:
    CSV lines after the one valid invoice)."""

    def reach(site: Site) -> str:
        data = ("发票代码,发票号码,开票日期,校验码\n"
                + ",".join(VERIFY["valid"][k] for k in ("invoice_code", "invoice_number",
                                                         "issue_date", "check_code"))
                + more).encode()
        response = site.context.request.post("/batch", multipart={
            "csrf_token": site.csrf(),
            "file": {"name": "invoices.csv", "mimeType": "text/csv", "buffer": data}})
        path = response.url.removeprefix(site.base_url)
        assert re.fullmatch(r"/batch/[\w-]+", path), f"upload ended on {response.url}"
        for _attempt in range(100):
            if 'id="batch-rows"' in site.context.request.get(path).text():
                return path + then
            time.sleep(0.1)
        raise AssertionError(f"batch {path} did not finish")

    return reach


def verify_with_errors(site: Site) -> None:
    site.page.goto("/verify")
    site.page.locator("#invoice_number").fill("123")
    site.page.locator("#verify-form button[type=submit]").click()
    site.page.locator("#error-summary").wait_for()


def kiosk_visit(path: str, verify: str | None = None) -> Callable:
    """A visitor at the kiosk (touched "start"), with a verdict on screen if ``verify``."""

    def reach(site: Site) -> str:
        site.context.request.post("/kiosk/start", form={"csrf_token": site.csrf()})
        if verify:
            site.context.request.post("/kiosk/keypad",
                                      form={"csrf_token": site.csrf(), **VERIFY[verify]})
        return path

    return reach


def kiosk_idle_warning(site: Site) -> None:
    site.page.goto(kiosk_visit("/kiosk/scan")(site))
    site.page.evaluate("document.dispatchEvent(new Event('kiosk:idle-now'))")
    site.page.locator("#kiosk-idle").wait_for()


@dataclass(frozen=True)
class State:
    name: str
    route: str | None  # the rule the site must have for this state to exist; None: always there
    reach: Callable  # opens the page in this state
    audience: str = "visitor"  # "visitor", "user" (signed in) or "staff"
    kiosk: bool = False
    status: int = 200  # what the page answers: an error page in the site layout passes axe too


STATES = [
    State("verify-empty", "/verify", goto("/verify")),
    State("verify-errors", "/verify", verify_with_errors),
    *(State(f"verify-{kind}", "/verify", verified(kind)) for kind in VERIFY),
    State("samples", "/samples", goto("/samples")),
    State("error-404", None, goto("/no-such-page"), status=404),
    State("history", "/history", verified("valid", "/history")),
    State("history-detail", "/history/<receipt_id>", verified("valid", "/history/{receipt}")),
    State("history-delete-all", "/history/delete-all", verified("valid", "/history/delete-all")),
    State("receipt", "/receipts/<receipt_id>", verified("valid", "/receipts/{receipt}")),
    State("receipt-check", "/receipts/check", goto("/receipts/check")),
    State("faq", "/faq", goto("/faq")),
    State("feedback", "/feedback", goto("/feedback")),
    State("feedback-status", "/feedback/status/<token>", reported()),
    State("feedback-delete", "/feedback/status/<token>/delete", reported("/delete")),
    State("batch", "/batch", goto("/batch")),
    State("batch-job", "/batch/<job_id>", batch_checked(), audience="user"),
    State("batch-delete", "/batch/<job_id>/delete", batch_checked("/delete"), audience="user"),
    State("login", "/login", goto("/login")),
    State("register", "/register", goto("/register")),
    State("password-forgot", "/password/forgot", goto("/password/forgot")),
    State("account", "/account", goto("/account"), audience="user"),
    State("account-last-admin", "/account", last_admin_account, audience="staff"),
    State("logout", "/logout", goto("/logout"), audience="user"),
    State("staff", "/staff", goto("/staff"), audience="staff"),
    State("staff-feedback", "/staff/feedback", goto("/staff/feedback"), audience="staff"),
    State("staff-ticket", "/staff/feedback/<number>", staff_ticket(), audience="staff"),
    State("staff-ticket-delete", "/staff/feedback/<number>/delete", staff_ticket("/delete"),
          audience="staff"),
    State("staff-deleted", "/staff/feedback/deleted", goto("/staff/feedback/deleted"),
          audience="staff"),
    State("staff-ticket-deleted", "/staff/feedback/<number>", staff_deleted_ticket,
          audience="staff", status=410),
    State("staff-reports", "/staff/reports", goto("/staff/reports"), audience="staff"),
    State("staff-stats", "/staff/stats", goto("/staff/stats"), audience="staff"),
    State("registry-search", "/staff/registry/", goto("/staff/registry/?number=7"),
          audience="staff"),
    State("registry-imports", "/staff/registry/imports", goto("/staff/registry/imports"),
          audience="staff"),
    State("developers", "/developers", goto("/developers")),
    State("kiosk-attract", "/kiosk", goto("/kiosk"), kiosk=True),
    State("kiosk-scan", "/kiosk/scan", kiosk_visit("/kiosk/scan"), kiosk=True),
    State("kiosk-keypad", "/kiosk/keypad", kiosk_visit("/kiosk/keypad"), kiosk=True),
    State("kiosk-result", "/kiosk/scan", kiosk_visit("/kiosk/scan", verify="valid"), kiosk=True),
    State("kiosk-idle-warning", "/kiosk/scan", kiosk_idle_warning, kiosk=True),
]
STATE_IDS = [s.name for s in STATES]


# --- the browser side -------------------------------------------------------------------------


class Site:
    """One browser context: a language, an audience and a display theme, with one page."""

    def __init__(self, browser, base_url: str, lang: str, audience: str, theme: str | None):
        self.lang, self.audience, self.theme, self.base_url = lang, audience, theme, base_url
        self.token: str | None = None
        self.context = browser.new_context(base_url=base_url, locale="en-GB",
                                           viewport=dict(zip(("width", "height"),
                                                             VIEWPORTS["desktop"])))
        cookies = [{"name": "lang", "value": lang, "url": base_url}]
        if theme:
            cookies.append({"name": "contrast", "value": theme, "url": base_url})
        self.context.add_cookies(cookies)
        # In every page before its own scripts; DevTools-injected, so the CSP does not apply.
        self.context.add_init_script(AXE_SCRIPT)
        self.page = self.context.new_page()
        self.receipts: dict[str, str] = {}
        if audience != "visitor":
            self.sign_in(audience)
            # The account's stored language would win over the cookie: choose in the session.
            self.token = None
            self.context.request.post("/language", form={"csrf_token": self.csrf(), "lang": lang})

    def csrf(self) -> str:
        """The session's CSRF token (it lasts as long as the session)."""
        if self.token is None:
            html = self.context.request.get("/verify").text()
            self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        return self.token

    def sign_in(self, audience: str) -> None:
        response = self.context.request.post("/login", form={
            "csrf_token": self.csrf(), "login": f"{audience}@a11y.example",
            "password": PASSWORD})
        assert "/login" not in response.url, f"signing in as {audience} failed"

    def open(self, state: State, wait: bool = True) -> int | None:
        """Bring the page into ``state``; without ``wait`` it may still be loading.

        The status the page answered, or None when the state is reached by typing and clicking
        (those states check their own outcome).
        """
        path = state.reach(self)
        if path is None:
            return None
        return self.page.goto(path, wait_until="load" if wait else "commit").status

    def start_axe(self) -> None:
        """Start axe once the page has loaded; it runs on in the renderer meanwhile."""
        self.page.wait_for_load_state("load")
        self.page.evaluate(AXE_START, AXE_TAGS)

    def axe_violations(self) -> list[dict]:
        return self.page.evaluate("window.__axeResult")

    def verify(self, kind: str) -> str:
        """The receipt id of a verification of ``kind`` made in this context (made once)."""
        if kind not in self.receipts:
            response = self.context.request.post(
                "/verify", form={"csrf_token": self.csrf(), **VERIFY[kind]})
            match = re.search(r"/verify/results/([A-Z0-9]+)", response.url)
            assert match, f"verification '{kind}' ended on {response.url} ({response.status})"
            self.receipts[kind] = match.group(1)
        return self.receipts[kind]

    def close(self) -> None:
        self.context.close()


class Sites:
    def __init__(self, browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.open: dict[tuple, Site] = {}

    def get(self, lang: str, audience: str = "visitor", theme: str | None = None) -> Site:
        key = (lang, audience, theme)
        if key not in self.open:
            self.open[key] = Site(self.browser, self.base_url, lang, audience, theme)
        return self.open[key]

    def close(self) -> None:
        for site in self.open.values():
            site.close()


# --- checks made in the page --------------------------------------------------------------------

# Started from a timer, so the call returns at once and the renderer works on in parallel.
AXE_START = """(tags) => {
  window.__axeResult = new Promise(resolve => setTimeout(resolve, 0))
    .then(() => axe.run(document, {runOnly: {type: "tag", values: tags},
                                   resultTypes: ["violations"]}))
    .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5)})));
}"""


def shot(site: Site, state: State, viewport: str, folder: str | None = None,
         whole: bool = False) -> None:
    """The screen at ``viewport``; ``whole``: the whole page at that width (much slower)."""
    width, height = VIEWPORTS[viewport]
    site.page.set_viewport_size({"width": width, "height": height})
    name = f"{state.name}-{width}x{height}{'-whole' if whole else ''}.png"
    path = SHOTS / (folder or site.lang) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    site.page.screenshot(path=str(path), full_page=whole, animations="disabled")


def overflow(site: Site, width: int) -> int | None:
    """How many pixels the page scrolls sideways at ``width`` (None: it does not)."""
    site.page.set_viewport_size({"width": width, "height": 640})
    scroll = site.page.evaluate("document.documentElement.scrollWidth")
    return scroll - width if scroll > width else None


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site_routes(server_env):
    """The routes the site serves (the same code the live server runs)."""
    from app import create_app

    app = create_app({"DATABASE_URL": server_env["DATABASE_URL"], "SECRET_KEY": "routes"})
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    app.extensions["database"].engine.dispose()
    return rules


@pytest.fixture(scope="session")
def a11y_data(server_env, live_server):
    """A valid and a void invoice, one at its daily limit, and an account per audience."""
    from yanpiao import registry
    from yanpiao.accounts import Role, create_user, find_user
    from yanpiao.db import make_engine, make_session_factory
    from yanpiao.models import DailyCounter

    engine = make_engine(server_env["DATABASE_URL"])
    with make_session_factory(engine)() as session:
        for name in ("valid", "void", "limit"):
            registry.store_invoice(session, registry.parse_import_record(RECORDS[name]))
        session.flush()
        limited = registry.find_invoice(session, RECORDS["limit"]["invoice_code"],
                                        RECORDS["limit"]["invoice_number"])
        today = datetime.now(ZoneInfo(server_env.get("YANPIAO_TIMEZONE", "Asia/Shanghai"))).date()
        session.merge(DailyCounter(invoice_id=limited.id, day=today,
                                   attempts=int(server_env["YANPIAO_DAILY_LIMIT"])))
        for audience, role in (("user", Role.USER), ("staff", Role.ADMIN)):
            if find_user(session, f"{audience}@a11y.example") is None:
                create_user(session, PASSWORD, email=f"{audience}@a11y.example", role=role)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def sites(browser, live_server, a11y_data):
    sites = Sites(browser, live_server)
    yield sites
    sites.close()


REPORT: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module", autouse=True)
def axe_report():
    yield
    if not REPORT:
        return
    columns = LANGS + [f"contrast theme ({CONTRAST_LANGS[0]})"]
    lines = ["# axe-core results", "",
             f"Rules: {', '.join(AXE_TAGS)}. A cell is the number of violated rules (their ids).",
             "", "| state | " + " | ".join(columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name in STATE_IDS:
        if name in REPORT:
            row = REPORT[name]
            lines.append(f"| {name} | " + " | ".join(row.get(c, "–") for c in columns) + " |")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.md").write_text("\n".join(lines) + "\n")


def available(state: State, site_routes) -> None:
    if state.route is not None and state.route not in site_routes:
        pytest.fail(f"STATES names {state.route}, which the app does not serve", pytrace=False)


def summarise(violations: list[dict]) -> str:
    return f"{len(violations)} ({', '.join(v['id'] for v in violations)})" if violations else "0"


# --- the tests --------------------------------------------------------------------------------


# Colours do not depend on the language; Arabic adds right-to-left to the larger text.
CONTRAST_LANGS = ("ar", "ru")  # right to left; the longest words
WHOLE_PAGE_LANGS = ("ar",)  # the whole page on the phone, to look at right-to-left layout


@pytest.mark.parametrize("state", STATES, ids=STATE_IDS)
def test_page(state, sites, site_routes):
    """axe, target size, labels beside their boxes, chart labels within their charts, no
    sideways scrolling and the screenshots, in every language and in the high-contrast theme.

    The pages of all languages load at once and axe starts in each as soon as it has loaded,
    running on in its renderer while the next is handled; each page is measured and
    photographed once its own axe run is over.
    """
    available(state, site_routes)
    problems: list[str] = []
    opened = [sites.get(lang, state.audience) for lang in LANGS]
    opened += [sites.get(lang, state.audience, theme="on") for lang in CONTRAST_LANGS]
    for site in opened:
        site.page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS["desktop"])))
        status = site.open(state, wait=False)
        if status not in (None, state.status):
            problems.append(f"{site.lang}{' (high contrast)' if site.theme else ''}: "
                            f"answered {status}, not {state.status}")
    for site in opened:
        site.start_axe()
    minimum = KIOSK_TARGET if state.kiosk else WEB_TARGET
    for site in opened:
        label = site.lang + (" (high contrast)" if site.theme else "")
        if site.theme:
            assert "theme-contrast" in (site.page.get_attribute("html", "class") or ""), label
        violations = site.axe_violations()
        column = f"contrast theme ({site.lang})" if site.theme else site.lang
        if not site.theme or site.lang == CONTRAST_LANGS[0]:
            REPORT.setdefault(state.name, {})[column] = summarise(violations)
        problems += [f"{label}: axe {v['id']} ({v['impact']}): {v['help']} → "
                     f"{'; '.join(v['targets'])}" for v in violations]
        small = site.page.evaluate(SMALL_TARGETS, minimum)
        problems += [f"{label}: button not level with the fields beside it: {s}"
                     for s in site.page.evaluate(UNEVEN_BUTTON_ROWS)]
        if site.theme:
            shot(site, state, "phone", folder=f"contrast-{site.lang}", whole=True)
        else:
            for viewport in ("desktop", "kiosk", "phone"):
                shot(site, state, viewport)
            if site.lang in WHOLE_PAGE_LANGS:
                shot(site, state, "phone", whole=True)
        small += [s for s in site.page.evaluate(SMALL_TARGETS, minimum) if s not in small]
        problems += [f"{label}: target smaller than {minimum}px: {s}" for s in small]
        problems += [f"{label}: label not beside its {s} on the phone"
                     for s in site.page.evaluate(LABELS_APART)]
        problems += [f"{label}: chart label cut off at its edge: {s}"
                     for s in site.page.evaluate(CLIPPED_CHART_TEXT)]
        problems += [f"{label}: chart label smaller than {CHART_TEXT}px on the phone: {s}"
                     for s in site.page.evaluate(SMALL_CHART_TEXT, CHART_TEXT)]
        problems += [f"{label}: breadcrumb steps not on one line: {s}"
                     for s in site.page.evaluate(CROOKED_BREADCRUMBS)]
        problems += [f"{label}: table cell squeezed on the phone: {s}"
                     for s in site.page.evaluate(SQUEEZED_CELLS)]
        if (extra := overflow(site, NARROWEST)) is not None:
            problems.append(f"{label}: scrolls sideways by {extra}px at {NARROWEST}px wide")
    if problems:
        pytest.fail(f"{state.name}: {len(problems)} problem(s)\n" + "\n".join(problems[:40]),
                    pytrace=False)


def test_the_history_shows_each_outcome_on_a_phone(sites):
    """In Russian the history's third column, the outcome, was cut off at 360 px, inside a
    table that scrolled sideways in its box."""
    state = next(s for s in STATES if s.name == "history")
    site = sites.get("ru", state.audience)
    site.page.set_viewport_size({"width": 360, "height": 640})
    site.open(state)
    edges = site.page.eval_on_selector_all(
        ".history-table .tag", "tags => tags.map(t => t.getBoundingClientRect().right)")
    assert edges and max(edges) <= 360, edges


def test_a_batch_rows_reasons_are_read_on_a_phone(sites):
    """Five columns at 360 px left the reasons a word wide, off to the side in a box that
    scrolled; a broken cell of 64 characters pushed them further. Each row is now a card."""
    state = next(s for s in STATES if s.name == "batch-job")
    site = sites.get("ru", state.audience)
    site.page.set_viewport_size({"width": 360, "height": 640})
    path = batch_checked(more="\n" + ",2.6112E+19,2026-11-01,\n"
                         + "011002400104,\"1234,2026-11-01,294433,x" + "y" * 60 + "\n")(site)
    site.page.goto(site.base_url + path)
    boxes = site.page.eval_on_selector_all(
        ".batch-details > div:not(:empty)", "all => all.map(d => d.getBoundingClientRect().toJSON())")
    assert len(boxes) >= 2  # the two refused rows (the valid one may say it was checked before)
    for box in boxes:
        assert box["right"] <= 360 and box["left"] >= 0 and box["width"] > 200, boxes
    assert site.page.evaluate("document.documentElement.scrollWidth") <= 360


TEXT_200_STATES = ["verify-errors", "verify-valid", "samples", "history", "faq", "feedback"]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_text_at_200_percent(lang, sites, site_routes):
    """WCAG 1.4.4: text doubled in size on a 1280px screen loses nothing to sideways scrolling."""
    problems = []
    for state in (s for s in STATES if s.name in TEXT_200_STATES):
        if state.route not in site_routes:
            continue
        site = sites.get(lang, state.audience)
        site.page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS["desktop"])))
        if (status := site.open(state)) not in (None, state.status):
            problems.append(f"{state.name}: answered {status}, not {state.status}")
        site.page.evaluate("document.documentElement.style.fontSize = '200%'")
        scroll = site.page.evaluate("document.documentElement.scrollWidth")
        if scroll > VIEWPORTS["desktop"][0]:
            problems.append(f"{state.name}: scrolls sideways ({scroll}px)")
        shot(site, state, "desktop", folder=f"text-200-{lang}")
    assert not problems, problems


def tab_through(site: Site, limit: int = 80) -> list[dict]:
    """Press Tab until focus comes round again; the focus indicator of each stop."""
    site.page.keyboard.press("Tab")
    stops, seen = [], set()
    for _ in range(limit):
        stop = site.page.evaluate(FOCUS_INDICATOR)
        if stop is None:
            break
        marker = site.page.evaluate(
            "() => { const e = document.activeElement; return e.id || e.outerHTML.slice(0, 120); }")
        if marker in seen:
            break
        seen.add(marker)
        stops.append(stop)
        site.page.keyboard.press("Tab")
    return stops


@pytest.mark.parametrize(("lang", "theme"), [("en", None), ("ar", None), ("en", "on")])
def test_focus_is_always_visible_with_enough_contrast(lang, theme, sites):
    """Every Tab stop shows a focus ring of at least 3:1 against what is around it."""
    site = sites.get(lang, theme=theme)
    problems = []
    for path in ("/verify", f"/verify/results/{site.verify('valid')}", "/samples"):
        site.page.goto(path)
        if path == "/verify":  # the hint's picture and list join the Tab order when open
            site.page.locator("details.where-hint").evaluate("d => d.open = true")
        stops = tab_through(site)
        assert len(stops) > 5, f"{path}: only {len(stops)} Tab stops"
        problems += [f"{path}: {s['tag']} “{s['name']}” focus ring {s['best']:.1f}:1"
                     for s in stops if s["best"] < 3]
    assert not problems, "\n".join(problems)


def test_prefers_contrast_more_switches_the_theme_on_by_itself(browser, live_server):
    context = browser.new_context(base_url=live_server, contrast="more")
    page = context.new_page()
    size = "() => getComputedStyle(document.documentElement).fontSize"
    page.goto("/verify")
    assert page.evaluate(size) == "20px"  # 125 %
    context.add_cookies([{"name": "contrast", "value": "off", "url": live_server}])
    page.goto("/verify")
    assert page.evaluate(size) == "16px"  # switched off explicitly
    context.close()


def test_reduced_motion_stops_animations_and_transitions(browser, live_server):
    context = browser.new_context(base_url=live_server, reduced_motion="reduce")
    page = context.new_page()
    page.goto("/verify")
    moving = page.evaluate("""() => [...document.querySelectorAll('*')].filter(e => {
        const s = getComputedStyle(e);
        return s.animationName !== 'none' || parseFloat(s.transitionDuration) > 0; }).length""")
    assert moving == 0
    context.close()


def test_language_and_contrast_switch_without_javascript(page_without_js):
    page = page_without_js
    page.goto("/verify")
    page.locator(".language-menu summary").click()
    page.get_by_role("button", name="العربية").click()
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.url.endswith("/verify")
    page.locator(".display-toggle button").click()
    assert "theme-contrast" in page.get_attribute("html", "class")
    assert page.locator(".display-toggle button").get_attribute("aria-pressed") == "true"


def test_every_page_is_in_the_table(site_routes, sites):
    """Each HTML page the site serves without arguments, to visitors or staff, has a row."""
    covered = {s.route for s in STATES}
    audiences = ["visitor"] + (["staff"] if "/login" in site_routes else [])
    missing = []
    for rule in sorted(site_routes.values(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.arguments or rule.rule in covered:
            continue
        if rule.endpoint.split(".")[0] in ("api", "health") or rule.rule == "/":
            continue
        for audience in audiences:
            request = sites.get("en", audience).context.request
            response = request.get(rule.rule, max_redirects=5)
            moved = urlsplit(response.url).path != rule.rule  # a redirect: its target counts
            kind = response.headers.get("content-type", "").split(";")[0]
            if kind == "text/html" and not moved:
                missing.append(rule.rule)
                break
    assert not missing, f"pages without a row in STATES: {missing}"
