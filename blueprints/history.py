"""My verifications: the filterable list, one check again, deleting, CSV/XLSX export, purge."""

from __future__ import annotations

import enum
from datetime import datetime

import click
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from yanpiao import batch, history, normalize
from yanpiao.db import utcnow
from yanpiao.types import InvoiceType, Outcome, Status
from yanpiao.verification import result_from_record, verify as verify_invoice

from . import messages
from .context import (
    history_owner,
    owner_key,
    retention,
    signed_in_user_id,
    verification_settings,
)
from .ext import db, limiter
from .render import page_or_fragment

bp = Blueprint("history", __name__)

FILTER_FIELDS = ("outcome", "invoice_type", "checked_from", "checked_to", "number")
# Outcomes that are recorded: malformed input never is.
RECORDED_OUTCOMES = [outcome for outcome in Outcome if outcome is not Outcome.INVALID]
EXPORT_HEADERS = {
    "checked_at": _l("Checked at"),
    "receipt_id": _l("Receipt"),
    "outcome": _l("Outcome"),
    "status": _l("Status"),
    "type": _l("Invoice type"),
    "invoice_code": _l("Invoice code"),
    "invoice_number": _l("Invoice number"),
    "issue_date": _l("Issue date"),
    "amount": _l("Amount"),
    "check_code": _l("Check code (last 6 digits)"),
    "verification_count": _l("Check number"),
}


class HistoryFilterForm(FlaskForm):
    """The filters, read from the query string: the list works as a plain GET form."""

    class Meta:
        csrf = False

    outcome = SelectField(_l("Outcome"), validate_choice=False)
    invoice_type = SelectField(_l("Invoice type"), validate_choice=False)
    checked_from = StringField(_l("Checked on or after"))
    checked_to = StringField(_l("Checked on or before"))
    number = StringField(_l("Invoice number contains"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [SelectChoice("", _("Any outcome"))] + [
            SelectChoice(o.value, str(messages.OUTCOME_NAMES[o])) for o in RECORDED_OUTCOMES
        ]
        self.invoice_type.choices = [SelectChoice("", _("Any type"))] + [
            SelectChoice(t.code, str(messages.TYPE_NAMES[t])) for t in InvoiceType
        ]

    def to_filter(self) -> history.HistoryFilter:
        """The filter of every valid field; an invalid one gets its message and is left out."""
        values: dict = {}
        outcome = self.outcome.data or ""
        if outcome:
            if outcome in {o.value for o in RECORDED_OUTCOMES}:
                values["outcome"] = Outcome(outcome)
            else:
                self.outcome.errors = [_("Choose an outcome from the list.")]
        if self.invoice_type.data:
            values["invoice_type"] = InvoiceType.from_code(self.invoice_type.data)
            if values["invoice_type"] is None:
                self.invoice_type.errors = [_("Choose an invoice type from the list.")]
        for name in ("checked_from", "checked_to"):
            text = (getattr(self, name).data or "").strip()
            if text:
                try:
                    values[name] = normalize.parse_date(text[:40])
                except ValueError:
                    getattr(self, name).errors = [
                        _("Enter a real date, for example 2024-10-25.")
                    ]
        start, end = values.get("checked_from"), values.get("checked_to")
        if start and end and start > end:
            self.checked_to.errors = [
                _("The end date must be the same as or after the start date.")
            ]
            del values["checked_to"]
        number = (self.number.data or "").strip()
        if number:
            try:
                digits = normalize.digits(number[:60])
                if len(digits) > 20:
                    raise ValueError("too long")
                values["number"] = digits
            except ValueError:
                self.number.errors = [_("Enter up to 20 digits of the invoice number.")]
        return history.HistoryFilter(**{k: v for k, v in values.items() if v is not None})

    def field_errors(self) -> list[tuple[str, str]]:
        return [(field.id, message) for field in self for message in field.errors]

    def query(self) -> dict[str, str]:
        """The filters as given, for pagination and export links."""
        return {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}


def _filters() -> tuple[HistoryFilterForm, history.HistoryFilter]:
    form = HistoryFilterForm(formdata=request.args)
    return form, form.to_filter()


def _private(response: Response) -> Response:
    # Someone's own checks: never kept by a shared cache or a shared computer's back button.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _page_number() -> int:
    page = request.args.get("page", type=int) or 1
    return max(1, min(page, 100_000))


# Endpoint "history.history": the navigation names areas by endpoint.
@bp.get("/history", endpoint="history")
def history_list():
    form, flt = _filters()
    listing = history.history_page(
        db.session, history_owner(), flt, page=_page_number(),
        tz=verification_settings().timezone,
    )
    return _private(page_or_fragment(
        "history/page.html", "history/_list.html", form=form, listing=listing, query=form.query(),
    ))


def _word(value) -> object:
    """Domain names in the reader's language; every other value keeps its type."""
    if isinstance(value, Outcome):
        return str(messages.OUTCOME_NAMES[value])
    if isinstance(value, Status):
        return str(messages.STATUS_NAMES[value])
    if isinstance(value, InvoiceType):
        return str(messages.TYPE_NAMES[value])
    if isinstance(value, enum.Enum):
        return value.value
    return value


@bp.get("/history/export.<fmt>")
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    _form, flt = _filters()
    tz = verification_settings().timezone
    records = history.matching_records(db.session, history_owner(), flt, tz=tz)
    header = [str(EXPORT_HEADERS[column]) for column in history.EXPORT_COLUMNS]
    rows = [[_word(value) for value in history.export_row(record, tz)] for record in records]
    stamp = datetime.now(tz).strftime("%Y%m%d")
    if fmt == "csv":
        body, mimetype = history.write_csv(header, rows), "text/csv"
    else:
        body = history.write_xlsx(header, rows, title=_("Verifications"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    name = f"yanpiao-history-{stamp}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


def _owned_or_404(receipt_id: str):
    record = history.find_record(db.session, history_owner(), receipt_id)
    if record is None:
        abort(404)
    return record


@bp.get("/history/<receipt_id>")
def detail(receipt_id: str):
    record = _owned_or_404(receipt_id)
    result = result_from_record(db.session, record, verification_settings())
    return _private(Response(render_template("history/detail.html", result=result, record=record,
                                             given=_given(record))))


def _given(record) -> list[tuple[str, str, object]]:
    """(label, kind, value) of each detail a check was given, as the history keeps them;
    kind is "code", "date" or "money"."""
    values = (("invoice_code", "code", record.invoice_code or None),
              ("invoice_number", "code", record.invoice_number or None),
              ("issue_date", "date", record.issue_date),
              ("amount", "money", record.amount),
              ("check_code", "code", record.check_code or None))
    return [(str(messages.FIELD_LABELS[name]), kind, value) for name, kind, value in values
            if value is not None]


def _verify_limit() -> str:
    return current_app.config["YANPIAO_VERIFY_RATE_LIMIT"]


@bp.post("/history/<receipt_id>/verify-again")
@limiter.limit(_verify_limit)
def verify_again(receipt_id: str):
    record = _owned_or_404(receipt_id)
    request_ = result_from_record(db.session, record).request
    if request_ is None:
        abort(404)
    result = verify_invoice(
        db.session, request_, settings=verification_settings(),
        owner_key=owner_key(), user_id=signed_in_user_id(),
    )
    return redirect(url_for("verify.show_result", receipt_id=result.receipt_id), code=303)


@bp.post("/history/<receipt_id>/delete")
def delete(receipt_id: str):
    if not history.delete_record(db.session, history_owner(), receipt_id):
        abort(404)
    flash(_("The check was deleted from your history."))
    return redirect(url_for("history.history"), code=303)


@bp.route("/history/delete-all", methods=["GET", "POST"])
def delete_all():
    owner = history_owner()
    if request.method == "GET":
        total = history.history_page(db.session, owner, per_page=1).total
        return _private(Response(render_template("history/delete_all.html", total=total)))
    deleted = history.delete_all(db.session, owner)
    flash(ngettext("%(num)d check was deleted.", "%(num)d checks were deleted.", deleted))
    return redirect(url_for("history.history"), code=303)


@bp.cli.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Keep this many days (default: YANPIAO_HISTORY_RETENTION_DAYS).")
def purge(days: int | None) -> None:
    """Delete verification records and finished batches older than the retention period."""
    kept = retention("YANPIAO_HISTORY_RETENTION_DAYS", days)
    if kept is None:
        click.echo("Retention is unlimited (0 days): nothing purged.")
        return
    cutoff = history.retention_cutoff(utcnow(), kept.days)
    deleted = history.purge_before(db.session, cutoff)
    click.echo(f"Purged {deleted} verification records made before {cutoff:%Y-%m-%d %H:%M} UTC.")
    batches = batch.purge_before(db.session, cutoff)
    click.echo(f"Purged {batches} finished batches made before {cutoff:%Y-%m-%d %H:%M} UTC, "
               "with their results.")


@bp.app_template_global()
def history_type_name(code: str) -> str:
    invoice_type = InvoiceType.from_code(code)
    return str(messages.TYPE_NAMES[invoice_type]) if invoice_type else code
