"""Feedback reports: tickets per week, response times, satisfaction, FAQ helpfulness.

Each report is one ``Table``; the page draws a chart from it and shows it under the chart,
and the CSV export writes the same table, so the three never disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import Response, abort, current_app, render_template, request
from flask_babel import format_decimal, format_number, get_locale, pgettext
from flask_babel import gettext as _

from yanpiao.db import utcnow
from yanpiao.faq import vote_counts
from yanpiao.feedback import RATINGS, Category, Report, TicketStatus, weekly_report
from yanpiao.spreadsheets import csv_cell

from ..charts import grouped_columns
from ..ext import db
from ..faq import fill, placeholders
from ..faq_content import QUESTIONS
from ..feedback_forms import CATEGORY_NAMES, RATING_NAMES, STATUS_NAMES
from . import bp

WEEK_CHOICES = (4, 12, 26, 52)
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    headers: list[str]
    # (first cell for the CSV, first cell shown, the values); a value of None is "no data".
    rows: list[tuple[str, str, list[float | None]]]
    kind: str = "count"  # or "hours"
    chart_columns: int | None = None  # how many value columns the chart draws (all: None)


def week_label(day) -> str:
    return format_skeleton("MMMd", day, locale=get_locale())


def report_tables(report: Report) -> list[Table]:
    weeks = report.weeks
    return [
        Table(
            "categories", _("Tickets received per week, by category"),
            [_("Week of"), *(str(CATEGORY_NAMES[c]) for c in Category), pgettext("sum of a table row", "Total")],
            [(w.start.isoformat(), week_label(w.start),
              [*(w.by_category[c] for c in Category), w.total]) for w in weeks],
            chart_columns=len(Category),
        ),
        Table(
            "statuses", _("Tickets received per week, by their status today"),
            [_("Week of"), *(str(STATUS_NAMES[s]) for s in TicketStatus), pgettext("sum of a table row", "Total")],
            [(w.start.isoformat(), week_label(w.start),
              [*(w.by_status[s] for s in TicketStatus), w.total]) for w in weeks],
            chart_columns=len(TicketStatus),
        ),
        Table(
            "response-times", _("Median hours until the first reply and until resolution"),
            [_("Week of"), _("First reply (hours)"), _("Resolution (hours)")],
            [(w.start.isoformat(), week_label(w.start),
              [_round(w.median_first_reply_hours), _round(w.median_resolution_hours)])
             for w in weeks],
            kind="hours",
        ),
        Table(
            "satisfaction", _("Ratings given by reporters"),
            [_("Rating"), _("Tickets")],
            [(str(r), str(RATING_NAMES[r]), [report.ratings.get(r, 0)]) for r in RATINGS],
        ),
    ]


def faq_table() -> Table:
    counts = vote_counts(db.session, QUESTIONS)
    return Table(
        "faq", _("Answers to “Was this helpful?” per FAQ question"),
        [_("Question"), _("Yes"), _("No")],
        [(slug, fill(q.question, placeholders()), list(counts[slug]))
         for slug, q in QUESTIONS.items()],
    )


def _round(hours: float | None) -> float | None:
    return None if hours is None else round(hours, 1)


def shown(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    return format_decimal(value, "#,##0.0") if kind == "hours" else format_number(value)


def chart_for(table: Table):
    columns = table.chart_columns or len(table.headers) - 1
    return grouped_columns(
        f"chart-{table.name}",
        table.caption,
        [label for _csv, label, _values in table.rows],
        table.headers[1:1 + columns],
        [values[:columns] for _csv, _label, values in table.rows],
        stacked=table.kind == "count",
        integers=table.kind == "count",
        number=lambda v: shown(v, table.kind),
    )


def _weeks() -> int:
    weeks = request.args.get("weeks", DEFAULT_WEEKS, type=int)
    return weeks if weeks in WEEK_CHOICES else DEFAULT_WEEKS


def _report() -> Report:
    return weekly_report(db.session, weeks=_weeks(), now=utcnow(),
                         tz=ZoneInfo(current_app.config["YANPIAO_TIMEZONE"]))


@bp.get("/reports")
def reports():
    report = _report()
    tables = report_tables(report)
    return render_template(
        "staff/reports.html", report=report, weeks=_weeks(), week_choices=WEEK_CHOICES,
        sections=[(table, chart_for(table)) for table in tables], faq=faq_table(), shown=shown,
    )


@bp.get("/reports/<name>.csv")
def report_csv(name: str):
    tables = {t.name: t for t in [*report_tables(_report()), faq_table()]}
    table = tables.get(name)
    if table is None:
        abort(404)
    out = io.StringIO()
    # A byte-order mark so spreadsheet programs read the Chinese headers as UTF-8.
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for first, _label, values in table.rows:
        writer.writerow([csv_cell(first), *("" if v is None else v for v in values)])
    filename = f"yanpiao-{name}-{_weeks()}w.csv" if name != "faq" else "yanpiao-faq.csv"
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
    })
