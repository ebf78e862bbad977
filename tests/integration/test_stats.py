"""The staff statistics page: staff only, and the figures of a known set of verifications."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest

from yanpiao.accounts import Role
from yanpiao.models import VerificationRecord

# (created at, UTC; outcome; status; mismatch fields; entry path; kiosk)
FIXTURE = [
    (datetime(2026, 11, 18, 2, 0, tzinfo=UTC), "match", "normal", "", "typed", None),
    (datetime(2026, 11, 18, 3, 0, tzinfo=UTC), "match", "void", "", "scanner", None),
    (datetime(2026, 11, 18, 4, 0, tzinfo=UTC), "mismatch", None, "amount", "typed", None),
    # 01:30 on the 19th in Beijing, still the 18th in UTC: counts on the 19th.
    (datetime(2026, 11, 18, 17, 30, tzinfo=UTC), "mismatch", None, "amount,issue_date",
     "kiosk_camera", "mall-east-1"),
    (datetime(2026, 11, 19, 5, 0, tzinfo=UTC), "mismatch", None, "check_code", "kiosk_camera",
     "mall-east-1"),
    (datetime(2026, 11, 19, 6, 0, tzinfo=UTC), "not_found", None, "", "kiosk_camera",
     "mall-west-2"),
    (datetime(2026, 11, 20, 1, 0, tzinfo=UTC), "match", "normal", "", "batch", None),
    (datetime(2026, 11, 20, 1, 0, tzinfo=UTC), "match", "normal", "", "batch", None),
    (datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "limit_exceeded", None, "", "api", None),
    (datetime(2026, 11, 20, 3, 0, tzinfo=UTC), "too_old", None, "", "photo", "mall-east-1"),
    # Outside the period asked for.
    (datetime(2026, 11, 10, 3, 0, tzinfo=UTC), "match", "normal", "", "pdf", "mall-west-2"),
]
PERIOD = "?first=2026-11-18&last=2026-11-20"


@pytest.fixture
def records(app):
    from blueprints.ext import db

    with app.app_context():
        for index, (at, outcome, status, fields, path, kiosk) in enumerate(FIXTURE):
            db.session.add(VerificationRecord(
                id=f"R{index:05d}", created_at=at, outcome=outcome, status=status,
                mismatch_fields=fields, entry_path=path, kiosk_id=kiosk,
                invoice_number="12345678"))
        db.session.commit()


@pytest.fixture
def staff(app, client, make_user, login):
    login(client, make_user(email="staff@example.com", role=Role.STAFF))
    return client


def table_of(page: str, caption: str) -> dict[str, list[str]]:
    """The rows of the data table under a chart: first cell → the other cells."""
    match = re.search(re.escape(f"Figures: {caption}") + r"</caption>(.*?)</table>", page, re.S)
    assert match, caption
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = [html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        if cells and cells[0] not in ("Item", "Day"):
            rows[cells[0]] = cells[1:]
    return rows


def test_figures_match_the_fixture(staff, records):
    page = staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "10 verifications." in text

    assert {d: v[0] for d, v in table_of(text, "Verifications per day").items()} == {
        "2026-11-18": "3", "2026-11-19": "3", "2026-11-20": "4"}
    assert {k: v[0] for k, v in table_of(text, "Outcomes").items()} == {
        "Found": "4", "Details don't match": "3", "Not found": "1", "Daily limit reached": "1",
        "Too old to verify": "1"}
    assert table_of(text, "Outcomes")["Found"][1] == "40.0%"
    assert {k: v[0] for k, v in table_of(text, "Status of the invoices found").items()} == {
        "Normal": "3", "Voided": "1"}
    reasons = table_of(text, "Top mismatch reasons")
    assert list(reasons) == ["Amount", "Check code", "Issue date"]
    assert [v[0] for v in reasons.values()] == ["2", "1", "1"]
    assert {k: v[0] for k, v in table_of(text, "Share by entry path").items()} == {
        "Typed": "2", "Scanner": "1", "Photo": "1", "Kiosk camera": "3", "API": "1",
        "Batch": "2"}
    assert {k: v[0] for k, v in table_of(text, "Busiest kiosks").items()} == {
        "mall-east-1": "3", "mall-west-2": "1"}


def test_charts_are_accessible_svg(staff, records):
    text = staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    svgs = re.findall(r"<svg class=\"chart-svg\"[^>]*>", text)
    assert len(svgs) == 6
    for svg in svgs:
        assert 'role="img"' in svg and "aria-labelledby" in svg
    assert text.count("<title id=") == 6 and text.count("<desc id=") == 6
    assert 'style="' not in text  # the CSP allows no inline styles
    # Each figure is named by its section's heading, and the title is not said twice.
    figures = re.findall(r'<figure class="chart" id="([^"]+)" aria-labelledby="([^"]+)"', text)
    assert len(figures) == 6
    for chart_id, label in figures:
        assert label == f"{chart_id}-heading" and f'<h2 id="{label}">' in text
    assert "<figcaption" not in text


def test_fragment_for_htmx(staff, records):
    response = staff.get("/staff/stats" + PERIOD, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="stats-charts">')
    assert "<html" not in body


def test_empty_period_and_bad_dates(staff, records):
    empty = staff.get("/staff/stats?first=2020-01-01&last=2020-01-02",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "0 verifications." in empty and "No data in this period." in empty
    unread = staff.get("/staff/stats?first=soon&last=2026-13-40",
                       headers={"Accept-Language": "en"})
    assert unread.status_code == 200
    text = html.unescape(unread.get_data(as_text=True))
    assert "From: Enter the date as year-month-day, for example 2024-10-25." in text
    assert "To: Enter the date as year-month-day, for example 2024-10-25." in text
    reversed_range = staff.get("/staff/stats?first=2026-11-20&last=2026-11-18",
                               headers={"Accept-Language": "en"})
    assert "10 verifications." in reversed_range.get_data(as_text=True)


def test_a_period_without_checks_is_drawn_on_a_scale_of_zero(staff, records):
    page = staff.get("/staff/stats?first=2020-01-01&last=2020-01-02",
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    per_day = re.search(r'<figure class="chart" id="per-day".*?</svg>', page, re.S).group(0)
    assert re.findall(r'<text class="chart-value"[^>]*>([^<]*)</text>', per_day) == ["0"]


def test_csv_export_has_the_same_figures(staff, records):
    response = staff.get("/staff/stats/export.csv" + PERIOD, headers={"Accept-Language": "en"})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Chart", "Item", "Count"]
    assert ["Verifications per day", "2026-11-19", "3"] in rows
    assert ["Busiest kiosks", "mall-east-1", "3"] in rows
    assert ["Top mismatch reasons", "Amount", "2"] in rows


@pytest.mark.parametrize("path", ["/staff/stats", "/staff/stats/export.csv"])
def test_staff_only(app, client, make_user, login, path):
    anonymous = client.get(path)
    assert anonymous.status_code in (302, 401)
    login(client, make_user(email="visitor@example.com"))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("query", ["?first=0001-01-01&last=0001-01-01",
                                   "?first=9999-12-31&last=9999-12-31",
                                   "?first=0001-01-01", "?last=9999-12-31",
                                   "?first=0001-01-01&last=2026-11-20"])
def test_a_year_out_of_reach_is_refused_not_a_server_error(staff, records, query):
    """Counting 30 days back from 0001-01-01, or a day past 9999-12-31, overflowed: a 500."""
    page = staff.get("/staff/stats" + query, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Choose a date from January 1, 2000 to December 31, 2099." in text
    assert 'aria-invalid="true"' in text
    if "&last=" in query:  # the other date stays as it was typed
        assert f'value="{query.rsplit("=", 1)[1]}"' in text
    fragment = staff.get("/staff/stats" + query, headers={"HX-Request": "true",
                                                        "Accept-Language": "en"})
    assert "Choose a date from January 1, 2000" in html.unescape(fragment.get_data(as_text=True))
    assert staff.get("/staff/stats/export.csv" + query).status_code == 200


def test_a_period_longer_than_a_year_is_refused(staff, records):
    page = staff.get("/staff/stats?first=2024-01-01&last=2026-11-20",
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "From: Choose a period of at most 366 days." in html.unescape(page)
    # The charts are of the last 30 days, and the page says so.
    assert "2024" not in re.search(r'<p role="status">(.*?)</p>', page, re.S).group(1)


def test_period_labels_are_not_the_status_change_columns(staff, records):
    """"From" and "To" of a period were translated as the registry's status columns:
    原状态/新状态 (old/new status) in Chinese."""
    page = staff.get("/staff/stats", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "原状态" not in page and "新状态" not in page
    assert '<label for="first">起始日期</label>' in page


def test_chart_descriptions_count_in_the_languages_plural_forms(staff, records):
    """"%(count)s items" could not say 2 элемента and 5 элементов alike."""
    page = html.unescape(staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "ru"})
                         .get_data(as_text=True))
    assert "2 элемента, всего 4;" in page  # two kiosks
    assert "5 элементов, всего 10;" in page  # five outcomes


def test_a_legends_share_stays_beside_its_label_in_arabic(staff, records):
    """In Arabic the share's "%" was drawn on the far side of the label: "%موجودة 40.0"."""
    page = staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "ar"}).get_data(
        as_text=True)
    outcomes = re.search(r'<figure class="chart" id="outcomes".*?</svg>', page, re.S).group(0)
    legend = re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', outcomes)
    assert legend and all(re.fullmatch("\u2068[^\u2068\u2069]+\u2069 \u2066[^\u2066\u2069]+%\u2069", text)
                          for text in legend), legend


def test_a_total_is_written_the_way_the_language_writes_numbers(app, staff):
    """"12345 проверок": the count of a plural message came as a bare integer."""
    from blueprints.ext import db

    with app.app_context():
        db.session.add_all(VerificationRecord(
            id=f"B{index:05d}", created_at=datetime(2026, 11, 19, 3, 0, tzinfo=UTC),
            outcome="not_found", entry_path="api", invoice_number="12345678")
            for index in range(1234))
        db.session.commit()
    ru = staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "ru"})
    assert "1\xa0234 проверки." in ru.get_data(as_text=True)
    en = staff.get("/staff/stats" + PERIOD, headers={"Accept-Language": "en"})
    assert "1,234 verifications." in en.get_data(as_text=True)
