"""The verification page: typed fields in, the verdict out, as a page or an htmx fragment."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from yanpiao.history import find_record
from yanpiao.requests import plan_fields
from yanpiao.types import EntryPath
from yanpiao.verification import (
    AlreadyRecorded,
    receipt_id_for,
    result_from_record,
    verify as verify_invoice,
)

from .context import history_owner, owner_key, signed_in_user_id, verification_settings
from .errors import render_error
from .ext import db, limiter
from .forms import CheckForm, PhotoForm, ScanForm, VerifyForm
from .render import page_or_fragment, wants_fragment

bp = Blueprint("verify", __name__)


def _verify_limit() -> str:
    from flask import current_app

    return current_app.config["YANPIAO_VERIFY_RATE_LIMIT"]


@bp.get("/")
def home():
    return redirect(url_for("verify.verify"))


def _render(form: VerifyForm, result=None, notice: str | None = None, status: int = 200,
            scan_form: ScanForm | None = None, photo_form: PhotoForm | None = None,
            refresh_typed: bool = True, notice_for: str = "typed"):
    """The verify page, or for htmx the result plus the form bodies that changed.

    ``refresh_typed`` False: the typed form is left as it is on the visitor's screen (a
    refused scan or photo knows nothing of what was typed there, and would empty it).
    """
    plan = plan_fields(form.invoice_code.data or "", form.invoice_number.data or "")
    return page_or_fragment(
        "verify/page.html", "verify/_response.html", status=status,
        form=form, result=result, plan=plan, notice=notice,
        scan_form=scan_form or ScanForm(formdata=None),
        photo_form=photo_form or PhotoForm(formdata=None),
        refresh_scan=scan_form is not None, refresh_photo=photo_form is not None,
        refresh_typed=refresh_typed, notice_for=notice_for,
    )


def _respond(result, form: VerifyForm, **forms):
    """After a verification: the fragment for htmx, else POST/redirect/GET to the result."""
    if result.receipt_id is None:
        # Refused input is not recorded, so there is no result page to go to: a scanned code
        # whose fields make no valid request (a 04 without its check code) is answered here.
        return _render(form, result, status=200 if wants_fragment() else 422, **forms)
    if wants_fragment():
        response = _render(form, result, **forms)
        response.headers["HX-Push-Url"] = url_for("verify.show_result", receipt_id=result.receipt_id)
        return response
    return redirect(url_for("verify.show_result", receipt_id=result.receipt_id), code=303)


def _check(submitted: CheckForm, fields, key_fields: dict[str, str], **options):
    """Verify what a form sent; the same form sent again (a double click without JavaScript)
    is answered with the check it made the first time, not counted twice."""
    receipt_id = None
    if key := submitted.submission_key():
        receipt_id = receipt_id_for(current_app.secret_key, key, key_fields)
    submitted.renew_submission()
    settings = verification_settings()
    checks = dict(settings=settings, owner_key=owner_key(), user_id=signed_in_user_id(), **options)
    try:
        return verify_invoice(db.session, fields, receipt_id=receipt_id, **checks)
    except AlreadyRecorded:
        record = find_record(db.session, history_owner(), receipt_id)
        if record is not None:
            return result_from_record(db.session, record, settings)
        # The same key and fields from another browser (a copied page): a check of its own.
        return verify_invoice(db.session, fields, **checks)


def _verify_payload(submitted: CheckForm, entry_path: EntryPath, **forms):
    """A QR payload from a scanner, photo or file goes the same way as typed fields."""
    payload = submitted.payload
    fields = payload.fields()
    result = _check(submitted, fields, fields, entry_path=entry_path,
                    type_hint=payload.invoice_type)
    # The typed form shows what was read, so the visitor can check it against the paper; the
    # check code as the last 6 digits its field asks for (a QR code holds all 20).
    form = VerifyForm(formdata=None, data={**fields, "check_code": fields["check_code"][-6:]})
    return _respond(result, form, **forms)


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify():
    form = VerifyForm()
    if not form.validate_on_submit():
        status = 200 if not form.is_submitted() or wants_fragment() else 422
        return _render(form, status=status)
    result = _check(form, form.verification_request, form.raw_fields())
    return _respond(result, form)


@bp.post("/verify/scan")
@limiter.limit(_verify_limit)
def scan():
    """A handheld scanner types the QR payload and Enter; a pasted payload works the same."""
    scan_form = ScanForm()
    if not scan_form.validate_on_submit():
        status = 200 if wants_fragment() else 422
        return _render(VerifyForm(formdata=None), status=status, scan_form=scan_form,
                       refresh_typed=False)
    return _verify_payload(scan_form, EntryPath.SCANNER, scan_form=ScanForm(formdata=None))


@bp.post("/verify/photo")
@limiter.limit(_verify_limit)
def photo():
    photo_form = PhotoForm()
    if not photo_form.validate_on_submit():
        status = 200 if wants_fragment() else 422
        return _render(VerifyForm(formdata=None), status=status, photo_form=photo_form,
                       refresh_typed=False)
    return _verify_payload(photo_form, photo_form.entry_path, photo_form=PhotoForm(formdata=None))


@bp.get("/verify/results/<receipt_id>")
def show_result(receipt_id: str):
    record = find_record(db.session, history_owner(), receipt_id)
    if record is None:
        # The address looks shareable (htmx puts it in the address bar), but a check is only
        # its maker's: say so, rather than "check the address".
        return render_error(404, title=_("This result is not shown here"), message=_(
            "A check's result is shown only in the browser or account that made it. To show "
            "it to someone, send them its receipt link; to see the invoice's state yourself, "
            "verify it again."))
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
    if request.args.get("shown") == plan.key:
        # The fields on screen are already the right ones: swapping them again would replace
        # the field the visitor may be typing in by then, with what it held a moment ago.
        return "", 204
    return page_or_fragment("verify/page.html", "verify/_extra_fields.html", form=form, plan=plan)


def redisplay_after_csrf_error(message: str):
    """An expired form is shown again with everything the visitor typed, and the notice by
    that form (the scanner and photo forms are at the top of the page, the typed one below);
    with htmx the other forms stay as they are on the screen."""
    form = VerifyForm(formdata=None)
    forms: dict = {}
    if request.endpoint == "verify.scan":
        forms = {"scan_form": ScanForm(formdata=None, data={"qr": request.form.get("qr", "")}),
                 "notice_for": "scan", "refresh_typed": False}
    elif request.endpoint == "verify.photo":
        forms = {"photo_form": PhotoForm(formdata=None), "notice_for": "photo",
                 "refresh_typed": False}
    else:
        form.process(request.form)
    return _render(form, notice=message, status=200 if wants_fragment() else 400, **forms)
