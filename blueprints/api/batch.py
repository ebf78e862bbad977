"""POST /api/v1/batch, GET and DELETE /api/v1/batch/<id> (DESIGN 3.4), for holders of an API
token."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, jsonify, make_response, request, url_for
from flask_babel import gettext as _

from yanpiao.batch import create_job, delete_job, find_job, page_of_rows, summarize
from yanpiao.batch_files import BatchFileError, read_upload
from yanpiao.tokens import user_for_token

from ..batch_messages import file_problem, row_reasons
from ..batch_worker import keep_running, start_job
from ..ext import db, limiter
from . import bp

MAX_PAGE = 10_000


def _batch_limit() -> str:
    return current_app.config.get("YANPIAO_BATCH_RATE_LIMIT", "30 per hour")


def _api_limit() -> str:
    return current_app.config["YANPIAO_API_RATE_LIMIT"]


def token_required(view):
    """``Authorization: Bearer <token>``; the token's user is ``g.api_user``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = user_for_token(db.session, token.strip())
        if user is None:
            response = jsonify(error=401, message=_(
                "Send a valid API token: Authorization: Bearer followed by the token."))
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="yanpiao"'
            return response
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


@bp.post("/batch")
@limiter.limit(_batch_limit)
@token_required
def create_batch():
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error=422, errors={"file": _("Send the file as the multipart field “file”.")}), 422
    data = upload.read()
    try:
        parsed = read_upload(data, upload.filename or "", header_only=True,
                             max_rows=current_app.config["YANPIAO_BATCH_MAX_ROWS"])
    except BatchFileError as exc:
        message = file_problem(exc.problem, exc.params.get("limit", 0))
        return jsonify(error=422, problem=exc.problem.value, errors={"file": message}), 422
    job = create_job(db.session, g.api_user.id, data, upload.filename or "", parsed.kind,
                     via="api")
    start_job(job.id)
    status_url = url_for("api.batch_status", job_id=job.id)
    response = jsonify(id=job.id, status_url=status_url)
    response.status_code = 202
    response.headers["Location"] = status_url
    return response


def _int_arg(name: str, default: int, maximum: int) -> int:
    value = request.args.get(name, "")
    return min(int(value), maximum) if value.isdigit() else default


def _own_job(job_id: str):
    """The batch of the token's account, or a 404 answer (another account's is not found)."""
    job = find_job(db.session, job_id, g.api_user.id)
    if job is None:
        abort(make_response(jsonify(
            error=404, message=_("There is no batch with this id for this token.")), 404))
    return job


@bp.get("/batch/<job_id>")
@limiter.limit(_api_limit)
@token_required
def batch_status(job_id: str):
    job = _own_job(job_id)
    keep_running(job)
    body = {
        "id": job.id,
        "state": job.state,
        "filename": job.filename,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "percent": job.percent,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.state == "failed":
        body.update(problem=job.problem, message=file_problem(job.problem))
    if job.state == "done":
        limit = _int_arg("limit", 1000, MAX_PAGE) or 1000
        page = _int_arg("page", 1, 10**6) or 1
        summary = summarize(db.session, job.id)
        page_rows = page_of_rows(db.session, job.id, "all", page, limit)
        body["summary"] = {
            "rows": summary.total,
            "valid": summary.valid,
            "duplicates": summary.duplicates,
            "outcomes": {outcome.value: n for outcome, n in summary.outcomes.items()},
            "statuses": {status.value: n for status, n in summary.statuses.items()},
        }
        body["rows"] = [_row(row) for row in page_rows.rows]
        body["page"] = page
        body["next"] = (url_for("api.batch_status", job_id=job.id, page=page + 1, limit=limit)
                        if page_rows.has_next else None)
    return jsonify(body)


@bp.delete("/batch/<job_id>")
@limiter.limit(_api_limit)
@token_required
def delete_batch(job_id: str):
    job = _own_job(job_id)
    if not delete_job(db.session, job.id):  # it leaves a running batch alone
        return jsonify(error=409, message=_(
            "This batch is still being checked. You can delete it once it has finished.")), 409
    return "", 204


def _row(row) -> dict:
    item = {
        "row": row.row_number,
        "invoice_code": row.invoice_code,
        "invoice_number": row.invoice_number,
        "issue_date": row.issue_date,
        "outcome": row.outcome,
        "status": row.status,
        "valid": row.is_valid,
        "verification_count": row.verification_count,
        "duplicate_of": row.duplicate_of,
        "receipt_id": row.receipt_id,
    }
    if row.source:
        item["file"] = row.source
    reasons = row_reasons(row)
    if reasons:
        item["reasons"] = reasons
    return item
