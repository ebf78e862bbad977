"""Batch verification pages: upload a list or a ZIP, follow the job, read and download results."""

from __future__ import annotations

from flask import (
    Blueprint,
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
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from yanpiao.batch import (
    FILTERS,
    RowFilter,
    create_job,
    delete_job,
    find_job,
    page_of_rows,
    recent_jobs,
    summarize,
)
from yanpiao.batch_files import MAX_ROWS, BatchFileError, read_upload

from . import batch_export
from .batch_messages import file_problem, filter_label, outcome_name, row_reasons
from .batch_worker import keep_running, start_job
from .ext import db, limiter
from .render import page_or_fragment

bp = Blueprint("batch", __name__, url_prefix="/batch")
PER_PAGE = 50
UPLOAD_ENDPOINTS = {"batch.index", "api.create_batch"}


class BatchUploadForm(FlaskForm):
    file = FileField(_l("File to check"), [FileRequired(_l("Choose a file to upload."))])

    parsed = None
    data: bytes = b""

    def validate_file(self, field):
        upload = field.data
        self.data = upload.read() if upload else b""
        try:
            self.parsed = read_upload(self.data, upload.filename or "", header_only=True,
                                      max_rows=current_app.config["YANPIAO_BATCH_MAX_ROWS"])
        except BatchFileError as exc:
            from wtforms.validators import StopValidation

            raise StopValidation(file_problem(exc.problem, exc.params.get("limit", 0))) from None


def _batch_limit() -> str:
    return current_app.config.get("YANPIAO_BATCH_RATE_LIMIT", "30 per hour")


def raise_upload_limit():
    """Batch files may be larger than other uploads (a ZIP of a month of invoice PDFs).

    Runs before CSRF protection reads the form, so the larger limit is the one applied.
    """
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config.get(
            "YANPIAO_BATCH_MAX_UPLOAD_BYTES", 50 * 1024 * 1024
        )


@bp.record_once
def _register(state):
    state.app.config.setdefault("YANPIAO_BATCH_MAX_ROWS", MAX_ROWS)
    state.app.before_request_funcs.setdefault(None, []).insert(0, raise_upload_limit)
    state.app.jinja_env.globals.update(batch_row_reasons=row_reasons,
                                       batch_filter_label=filter_label,
                                       batch_outcome_name=outcome_name,
                                       batch_file_problem=file_problem)


@bp.route("", methods=["GET", "POST"])
@login_required
@limiter.limit(_batch_limit, methods=["POST"])
def index():
    form = BatchUploadForm()
    if form.validate_on_submit():
        job = create_job(db.session, current_user.id, form.data, form.file.data.filename or "",
                         form.parsed.kind)
        start_job(job.id)
        return redirect(url_for("batch.job", job_id=job.id), code=303)
    status = 422 if form.is_submitted() else 200
    jobs = recent_jobs(db.session, current_user.id)
    return render_template("batch/page.html", form=form, jobs=jobs, max_rows=MAX_ROWS), status


def own_job(job_id: str):
    job = find_job(db.session, job_id, current_user.id)
    if job is None:
        abort(404)
    return job


def _filter_args() -> tuple[str, int]:
    show = request.args.get("show", RowFilter.ALL.value)
    if show not in FILTERS:
        show = RowFilter.ALL.value
    page = request.args.get("page", "1")
    return show, int(page) if page.isdecimal() and 0 < int(page) < 10**6 else 1


@bp.get("/<job_id>")
@login_required
def job(job_id: str):
    job = own_job(job_id)
    keep_running(job)
    show, page = _filter_args()
    context = {"job": job, "show": show, "filters": FILTERS}
    if job.is_finished:
        context.update(summary=summarize(db.session, job.id),
                       row_page=page_of_rows(db.session, job.id, show, page, PER_PAGE,
                                             clamp=True))
    target = request.headers.get("HX-Target", "")
    fragment = "batch/_rows.html" if target == "batch-rows" and job.is_finished else "batch/_job.html"
    return page_or_fragment("batch/job.html", fragment, **context)


@bp.get("/<job_id>/results.<any(csv, xlsx):fmt>")
@login_required
def download(job_id: str, fmt: str):
    job = own_job(job_id)
    if not job.is_finished:
        abort(404)
    show, _page = _filter_args()
    if fmt == "csv":
        return batch_export.csv_response(job, show)
    return batch_export.xlsx_response(job, show)


@bp.route("/<job_id>/delete", methods=["GET", "POST"])
@login_required
def delete(job_id: str):
    """Asks first (GET), then deletes the finished batch and its results (POST)."""
    job = own_job(job_id)
    name = job.filename or job.id
    # delete_job leaves a running batch alone (also one resumed since the page was shown).
    if request.method == "POST" and delete_job(db.session, job.id):
        flash(_("The batch %(name)s and its results were deleted.", name=name))
        return redirect(url_for("batch.index"), code=303)
    if request.method == "POST" or not job.is_finished:
        return render_template("batch/delete.html", job=job, running=True), 409
    return render_template("batch/delete.html", job=job,
                           rows=summarize(db.session, job.id).total)


@bp.get("/template.<any(csv, xlsx):fmt>")
def template(fmt: str):
    return batch_export.template_response(fmt)


@bp.app_template_global()
def batch_job_state(job) -> str:
    names = {
        "queued": _("Waiting to start"),
        "running": _("Checking"),
        "done": _("Finished"),
        "failed": _("Stopped"),
    }
    return names.get(job.state, job.state)
