"""The verification page: typed fields in, the verdict out, as a page or an htmx fragment."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from yanpiao.models import VerificationRecord
from yanpiao.requests import plan_fields
from yanpiao.verification import result_from_record, verify as verify_invoice

from .context import owner_key, verification_settings
from .ext import db, limiter
from .forms import VerifyForm
from .render import page_or_fragment, wants_fragment

bp = Blueprint("verify", __name__)


def _verify_limit() -> str:
    from flask import current_app

    return current_app.config["YANPIAO_VERIFY_RATE_LIMIT"]


@bp.get("/")
def home():
    return redirect(url_for("verify.verify"))


def _render(form: VerifyForm, result=None, notice: str | None = None, status: int = 200):
    plan = plan_fields(form.invoice_code.data or "", form.invoice_number.data or "")
    response = page_or_fragment(
        "verify/page.html", "verify/_response.html", status=status,
        form=form, result=result, plan=plan, notice=notice,
    )
    return response


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify():
    form = VerifyForm()
    if not form.validate_on_submit():
        status = 200 if not form.is_submitted() or wants_fragment() else 422
        return _render(form, status=status)
    result = verify_invoice(
        db.session,
        form.verification_request,
        settings=verification_settings(),
        owner_key=owner_key(),
    )
    if wants_fragment():
        response = _render(form, result)
        response.headers["HX-Push-Url"] = url_for("verify.show_result", receipt_id=result.receipt_id)
        return response
    return redirect(url_for("verify.show_result", receipt_id=result.receipt_id), code=303)


@bp.get("/verify/results/<receipt_id>")
def show_result(receipt_id: str):
    record = db.session.scalar(
        select(VerificationRecord).where(
            VerificationRecord.id == receipt_id,
            VerificationRecord.owner_key == owner_key(create=False),
        )
    )
    if record is None or record.owner_key is None:
        abort(404)
    result = result_from_record(db.session, record, verification_settings())
    form = VerifyForm(data=result.request.given_fields() if result.request else None)
    return _render(form, result)


@bp.get("/verify/fields")
def extra_fields():
    """The extra-field block, adapted to the code and number typed so far."""
    form = VerifyForm(formdata=request.args, meta={"csrf": False})
    plan = plan_fields(form.invoice_code.data or "", form.invoice_number.data or "")
    if not wants_fragment():
        return redirect(url_for("verify.verify"))
    response = page_or_fragment("verify/page.html", "verify/_extra_fields.html", form=form, plan=plan)
    return response


def redisplay_after_csrf_error(message: str):
    """An expired form is shown again with everything the visitor typed."""
    form = VerifyForm(meta={"csrf": True})
    form.process(request.form)
    return _render(form, notice=message, status=200 if wants_fragment() else 400)
