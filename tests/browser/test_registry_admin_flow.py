"""Staff registry pages in Debian's chromium: an import followed by htmx polling and, without
JavaScript, by the Refresh link; search through htmx; axe-core on every registry page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect

from factories import invoice_record
from import_files import as_csv, as_jsonl

EMAIL, PASSWORD = "registry-officer@example.com", "correct horse battery staple"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def officer(server_env, live_server):
    from yanpiao.accounts import Role, create_user, find_user
    from yanpiao.db import make_engine, make_session_factory

    engine = make_engine(server_env["DATABASE_URL"])
    with make_session_factory(engine)() as session:
        if find_user(session, EMAIL) is None:
            create_user(session, PASSWORD, email=EMAIL, role=Role.STAFF)
            session.commit()
    engine.dispose()


def signed_in(browser, live_server, javascript: bool = True):
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  java_script_enabled=javascript)
    context.add_init_script(AXE_SCRIPT)
    page = context.new_page()
    page.goto("/login")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    return context, page


def upload(page, tmp_path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    page.goto("/staff/registry/imports")
    page.get_by_label("File to import").set_input_files(str(path))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Import of {name}")


def records(prefix: str, count: int) -> list[dict]:
    return [invoice_record(invoice_number=f"{prefix}{n:04d}") for n in range(count)]


def axe(page) -> list[str]:
    violations = page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}})
             .then(r => r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target).join(" | ")))""",
        AXE_TAGS,
    )
    return violations


def test_import_progress_is_polled_by_htmx(browser, live_server, officer, tmp_path):
    context, page = signed_in(browser, live_server)
    upload(page, tmp_path, "issuer.jsonl", as_jsonl(*records("8101", 3000), extra_lines=["{bad"]))
    url = page.url
    # htmx swaps the finished report in; the page itself is never reloaded.
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=30_000)
    assert page.url == url
    expect(page.locator("#import-announcement")).to_have_text("Finished")
    expect(page.get_by_text("3,000 invoices added")).to_be_visible()
    expect(page.get_by_role("table", name="Refused lines: nothing of them was stored")).to_contain_text("not valid JSON")
    assert axe(page) == []
    context.close()


def test_without_javascript_the_refresh_link_shows_the_progress(browser, live_server, officer,
                                                               tmp_path):
    context, page = signed_in(browser, live_server, javascript=False)
    upload(page, tmp_path, "issuer.csv", as_csv(*records("8102", 2000)).encode())
    for _ in range(60):
        if page.get_by_role("heading", name="Import finished").count():
            break
        page.get_by_role("link", name="Refresh to see the progress").click()
        page.wait_for_timeout(500)
    expect(page.get_by_text("2,000 invoices added")).to_be_visible()
    context.close()


def test_search_through_htmx_and_a_status_change(browser, live_server, officer, tmp_path):
    context, page = signed_in(browser, live_server)
    upload(page, tmp_path, "one.jsonl", as_jsonl(invoice_record(invoice_number="81030001")))
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=30_000)
    page.goto("/staff/registry/")
    assert axe(page) == []
    page.get_by_label("Invoice number starts with").fill("8103")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-status")).to_have_text("1 invoice found")
    assert "number=8103" in page.url  # the search is in the address, for sharing
    page.get_by_role("link", name=re.compile("81030001")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("81030001")
    assert axe(page) == []
    page.get_by_label("Abnormal").check()
    page.get_by_label("Reason for the change").fill("Tax office notice 2026-118")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("table", name="Status changes, newest first")).to_contain_text(
        "Tax office notice 2026-118")
    for path in ("/staff/registry/imports", "/developers"):
        page.goto(path)
        assert axe(page) == [], path
    page.goto("/staff/registry/?date_from=2026-13-45")
    expect(page.locator("#error-summary")).to_be_focused()
    assert axe(page) == []
    context.close()
