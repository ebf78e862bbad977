"""Staff statistics: verifications per day, outcomes, mismatch reasons, entry paths, kiosks."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from flask_wtf import FlaskForm
from wtforms import StringField

from yanpiao.spreadsheets import csv_cell
from yanpiao.stats import Period, collect

from . import messages
from .access import staff_required
from .charts import bar_chart, column_chart, percentage_bar
from .context import verification_settings
from .ext import db
from .render import page_or_fragment
from .validators import read_day

bp = Blueprint("stats", __name__, url_prefix="/staff/stats")
DEFAULT_DAYS = 30
MAX_DAYS = 366

MISMATCH_NAMES = {
    "issue_date": _l("Issue date"),
    "amount": _l("Amount"),
    "check_code": _l("Check code"),
    "type": _l("Invoice type"),
}


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    first = StringField(lazy_pgettext("period", "From"))
    last = StringField(lazy_pgettext("period", "To"))

    def period(self) -> Period:
        """The period asked for; the last DEFAULT_DAYS days when it cannot be used, the form
        then holding the reasons. Two days the wrong way round are taken as meant."""
        self.validate()
        first, last = read_day(self.first), read_day(self.last)
        today = datetime.now(verification_settings().timezone).date()
        if self.first.errors or self.last.errors:
            first = last = None
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            first, last = last, first
        if (last - first).days >= MAX_DAYS:
            self.first.errors.append(ngettext(
                "Choose a period of at most %(num)d day.",
                "Choose a period of at most %(num)d days.", MAX_DAYS))
            last = today
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        return Period(first, last)


def _sections(stats) -> list[tuple[str, str, str, list[tuple[str, float]]]]:
    """(id, title, kind of chart, items) in page order: one source for page and CSV."""
    return [
        ("per-day", _("Verifications per day"), "columns",
         [(d.isoformat(), n) for d, n in stats.per_day.items()]),
        ("outcomes", _("Outcomes"), "share",
         [(str(messages.OUTCOME_NAMES[o]), n) for o, n in stats.outcomes.items()]),
        ("statuses", _("Status of the invoices found"), "share",
         [(str(messages.STATUS_NAMES[s]), n) for s, n in stats.statuses.items()]),
        ("mismatch-reasons", _("Top mismatch reasons"), "bars",
         [(str(MISMATCH_NAMES.get(f, f)), n) for f, n in stats.mismatch_fields]),
        ("entry-paths", _("Share by entry path"), "share",
         [(str(messages.ENTRY_PATH_NAMES[p]), n) for p, n in stats.entry_paths.items()]),
        ("kiosks", _("Busiest kiosks"), "bars", [(k, n) for k, n in stats.kiosks]),
    ]


def _chart(section_id: str, title: str, kind: str, items):
    # Each chart's section heading (stats/_charts.html) names it: no caption saying it again.
    heading = f"{section_id}-heading"
    if kind == "columns":
        return column_chart(section_id, title, items, label_header=_("Day"),
                            value_header=_("Verifications"), labelled_by=heading)
    if kind == "share":
        return percentage_bar(section_id, title, items, labelled_by=heading)
    return bar_chart(section_id, title, items, labelled_by=heading)


@bp.get("")
@staff_required
def index():
    form = PeriodForm(request.args)
    stats = collect(db.session, form.period(), verification_settings().timezone)
    charts = [(section_id, title, _chart(section_id, title, kind, items) if items else None)
              for section_id, title, kind, items in _sections(stats)]
    return page_or_fragment("stats/page.html", "stats/_charts.html", form=form, stats=stats,
                            charts=charts)


@bp.get("/export.csv")
@staff_required
def export():
    form = PeriodForm(request.args)
    period = form.period()
    stats = collect(db.session, period, verification_settings().timezone)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Chart"), _("Item"), _("Count")])
    for _section_id, title, _kind, items in _sections(stats):
        for label, value in items:
            writer.writerow([title, csv_cell(label), value])
    name = f"yanpiao-stats-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
