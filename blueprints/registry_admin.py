"""Registry upkeep for staff (/staff/registry): search, invoice detail, status changes, imports.

Imports run in a thread of the process that took the upload; the job row in the database is
what every process shows, so the progress page works whichever worker answers it. See
``yanpiao.upkeep`` for the one-transaction-per-file rule.
"""

from __future__ import annotations

import threading
from pathlib import PurePosixPath

from flask import (Blueprint, Flask, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from yanpiao import registry, upkeep
from yanpiao.db import utcnow
from yanpiao.models import Invoice
from yanpiao.types import InvoiceType, Status
from yanpiao.upkeep import JobState

from .access import staff_required
from .ext import db, limiter
from .messages import FIELD_LABELS, STATUS_NAMES, TYPE_NAMES, import_reason
from .render import page_or_fragment, wants_fragment
from .validators import MaxLength, read_day

bp = Blueprint("registry_admin", __name__, url_prefix="/staff/registry")

# Every view here is for staff: anonymous visitors are sent to sign in, other accounts get 403.
bp.before_request(staff_required(lambda: None))

JOB_STATE_NAMES = {
    JobState.QUEUED: _l("Waiting to start"),
    JobState.CHECKING: _l("Checking the lines"),
    JobState.SAVING: _l("Saving the invoices"),
    JobState.DONE: _l("Finished"),
    JobState.FAILED: _l("Stopped: nothing was stored"),
    JobState.INTERRUPTED: _l("Interrupted: nothing was stored"),
}

FILE_PROBLEMS = {
    "format": _l("Choose a JSON Lines file (.jsonl) or a CSV file (.csv)."),
    "encoding": _l("The file is not text in UTF-8 or GB18030. Save it again as UTF-8 and "
                   "upload it."),
    "empty": _l("The file is empty."),
}

REFUSALS = {
    "reason_required": _l("Enter the reason for the change."),
    "reason_too_long": _l("Keep the reason to %(max)d characters or fewer."),
    "not_allowed": _l("The invoice cannot go from this status to the one chosen."),
    "changed_meanwhile": _l(
        "Someone changed this invoice's status meanwhile. Check the new status and its "
        "history, then choose again."
    ),
}


# --- search -------------------------------------------------------------------------------


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing; its address can be bookmarked and shared

    code = StringField(_l("Invoice code starts with"), [MaxLength(12)])
    number = StringField(_l("Invoice number starts with"), [MaxLength(20)])
    party = StringField(_l("Seller or buyer: name or tax ID"), [MaxLength(200)])
    date_from = StringField(_l("Issued on or after"))
    date_to = StringField(_l("Issued on or before"))
    type = SelectField(_l("Type"), default="", validate_choice=False)
    status = SelectField(_l("Status"), default="", validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = [("", _("Any type"))] + [
            (t.code, f"{t.code} · {TYPE_NAMES[t]}") for t in InvoiceType
        ]
        self.status.choices = [("", _("Any status"))] + [
            (s.value, str(STATUS_NAMES[s])) for s in Status
        ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in (self.type, self.status):
            if (field.data or "") not in {value for value, _label in field.choices}:
                field.errors.append(_("Choose one of the options in the list."))
                valid = False
        self.first_day, self.last_day = read_day(self.date_from), read_day(self.date_to)
        if self.first_day and self.last_day and self.last_day < self.first_day:
            self.date_to.errors.append(_("The end of the range is before its start."))
        return valid and not self.date_from.errors and not self.date_to.errors

    def query(self) -> upkeep.InvoiceQuery:
        return upkeep.InvoiceQuery(
            code=(self.code.data or "").strip(),
            number=(self.number.data or "").strip(),
            party=(self.party.data or "").strip(),
            date_from=self.first_day,
            date_to=self.last_day,
            invoice_type=InvoiceType.from_code(self.type.data or ""),
            status=Status(self.status.data) if self.status.data else None,
        )


def field_errors(form) -> list[tuple[str, str]]:
    """(field id, message) in form order, for the error summary."""
    return [(field.id, message) for field in form if field.name != "csrf_token"
            for message in field.errors]


@bp.get("/")
def search():
    form = SearchForm(request.args)
    results = None
    if form.validate():
        results = upkeep.search_invoices(
            db.session, form.query(), page=request.args.get("page", 1, type=int)
        )
    criteria = {name: value for name, value in request.args.items() if name != "page" and value}
    return page_or_fragment(
        "registry_admin/search.html", "registry_admin/_search.html",
        form=form, results=results, criteria=criteria, as_fragment=wants_fragment(),
    )


# --- one invoice --------------------------------------------------------------------------


class StatusForm(FlaskForm):
    expected = HiddenField()
    # The domain decides which moves are allowed, and says so in its own words.
    new_status = RadioField(_l("New status"), [
        DataRequired(message=_l("Choose the new status.")),
    ], validate_choice=False)
    reason = TextAreaField(_l("Reason for the change"), [
        DataRequired(message=REFUSALS["reason_required"]),
        Length(max=upkeep.REASON_MAX_LENGTH, message=REFUSALS["reason_too_long"]),
    ])

    def offer(self, current: Status) -> StatusForm:
        self.new_status.choices = [
            (s.value, str(STATUS_NAMES[s])) for s in upkeep.allowed_targets(current)
        ]
        return self


def _render_invoice(invoice: Invoice, form: StatusForm, status: int = 200):
    current = Status(invoice.status)
    form.offer(current)
    if not form.expected.data or form.errors:
        form.expected.data = current.value
    log_page = request.args.get("log_page", 1, type=int)
    return render_template(
        "registry_admin/invoice.html",
        invoice=invoice,
        snapshot=registry.snapshot(invoice),
        current=current,
        form=form,
        history=upkeep.status_history(db.session, invoice.id),
        log=upkeep.verification_log(db.session, invoice.id, page=log_page),
    ), status


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    return invoice


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    return _render_invoice(_invoice_or_404(invoice_id), StatusForm())


@bp.post("/invoices/<int:invoice_id>/status")
@limiter.limit("60 per minute")
def change_status(invoice_id: int):
    invoice = _invoice_or_404(invoice_id)
    form = StatusForm().offer(Status(invoice.status))
    if form.validate_on_submit():
        try:
            change = upkeep.change_status(
                db.session, invoice_id, Status(form.new_status.data), form.reason.data,
                expected=Status(form.expected.data), by=current_user._get_current_object(),
            )
        except (upkeep.StatusChangeRefused, ValueError) as exc:
            # ValueError: a status name no form offers, sent by hand.
            reason = getattr(exc, "reason", "not_allowed")
            if reason == "not_allowed" and form.expected.data != invoice.status:
                reason = "changed_meanwhile"
            message = str(REFUSALS.get(reason, REFUSALS["not_allowed"])) % {
                "max": upkeep.REASON_MAX_LENGTH}
            target = form.reason if reason.startswith("reason") else form.new_status
            target.errors = [message]
            db.session.expire_all()
        else:
            flash(_("Status changed from %(old)s to %(new)s. The next verification shows it.",
                    old=STATUS_NAMES[Status(change.from_status)],
                    new=STATUS_NAMES[Status(change.to_status)]))
            return redirect(url_for(".invoice", invoice_id=invoice_id), code=303)
    return _render_invoice(invoice, form, status=422)


# --- imports ------------------------------------------------------------------------------


class ImportForm(FlaskForm):
    file = FileField(_l("File to import"), [
        FileRequired(message=_l("Choose a JSON Lines or CSV file to import.")),
    ])


def start_import(job_id: int, app: Flask | None = None) -> threading.Thread:
    """Run the job in a thread that outlives the request that queued it."""
    app = app or current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                upkeep.run_import_job(db.session, job_id)
            except Exception:  # the job shows as interrupted and can be run again
                app.logger.exception("registry import job %s could not run", job_id)

    thread = threading.Thread(target=work, name=f"registry-import-{job_id}", daemon=True)
    app.extensions.setdefault("registry_import_threads", {})[job_id] = thread
    thread.start()
    return thread


def wait_for_imports(app: Flask, timeout: float = 60) -> None:
    """Tests and scripts: wait until every import this process started has finished."""
    for thread in list(app.extensions.get("registry_import_threads", {}).values()):
        thread.join(timeout)


def _imports_page(form: ImportForm, status: int = 200):
    size = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return render_template(
        "registry_admin/imports.html", form=form, now=utcnow(),
        jobs=upkeep.recent_jobs(db.session), max_upload=f"{size // (1024 * 1024)} MB",
    ), status


@bp.get("/imports")
def imports():
    return _imports_page(ImportForm())


@bp.post("/imports")
@limiter.limit("30 per hour")
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        # Only the name, never a path a browser may send along.
        filename = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        try:
            job = upkeep.create_import_job(
                db.session, filename, upload.read(), user=current_user._get_current_object()
            )
        except registry.UnreadableFile as exc:
            form.file.errors.append(str(FILE_PROBLEMS[exc.reason]))
        except upkeep.ImportBusy as exc:
            form.file.errors.append(_(
                "Another import (%(name)s) is still running. Files are imported one after "
                "the other: wait until it has finished.", name=exc.job.filename))
        else:
            start_import(job.id)
            return redirect(url_for(".import_job", job_id=job.id), code=303)
    return _imports_page(form, status=422)


def _job_or_404(job_id: int) -> upkeep.ImportJob:
    job = db.session.get(upkeep.ImportJob, job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/imports/<int:job_id>")
def import_job(job_id: int):
    job = _job_or_404(job_id)
    return page_or_fragment(
        "registry_admin/import_job.html", "registry_admin/_import_progress.html",
        job=job, state=job.state_at(utcnow()), as_fragment=wants_fragment(),
    )


@bp.post("/imports/<int:job_id>/retry")
@limiter.limit("30 per hour")
def retry_import(job_id: int):
    _job_or_404(job_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        upkeep.requeue_import_job(db.session, job_id)
    except upkeep.ImportBusy as exc:
        flash(_("Another import (%(name)s) is still running. Files are imported one after "
                "the other: wait until it has finished.", name=exc.job.filename))
    except ValueError:  # queued, running or done: a second click, or another tab
        flash(_("This import runs again only after it failed or was interrupted. Here is "
                "where it stands."))
    else:
        start_import(job_id)
    return redirect(url_for(".import_job", job_id=job_id), code=303)


@bp.context_processor
def upkeep_words():
    return {
        "job_state_name": lambda state: JOB_STATE_NAMES[JobState(state)],
        "field_error_list": field_errors,
        "import_reason": import_reason,
        "allowed_targets": upkeep.allowed_targets,
        "disagreeing_fields": _disagreeing_fields,
        "csv_columns": registry.CSV_COLUMNS,
        "JobState": JobState,
        "InvoiceType": InvoiceType,
        "Status": Status,
    }


def _disagreeing_fields(names) -> str:
    labels = {"type": _l("Invoice type"), **FIELD_LABELS}
    return ", ".join(str(labels.get(name, name)) for name in names)
