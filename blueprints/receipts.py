"""Signed receipts: the page and PDF of one check, the public key, and checking a receipt.

A receipt opens for the history's owner, and for anyone with its share link (the QR code on
the receipt): the link carries a token derived from the receipt id, so changing the id in an
address opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import TextAreaField

from yanpiao import receipts
from yanpiao.history import find_record
from yanpiao.models import VerificationRecord
from yanpiao.types import InvoiceType, Outcome, Status
from yanpiao.verification import result_from_record

from . import messages
from .context import external_url, history_owner, verification_settings
from .ext import db, limiter
from .i18n import current_language
from .render import page_or_fragment, wants_fragment
from .validators import MaxLength

bp = Blueprint("receipts", __name__, url_prefix="/receipts")

MAX_RECEIPT_BYTES = 2 * 1024 * 1024
LABELS = {
    "format": _l("Format"),
    "receipt": _l("Receipt"),
    "checked_at": _l("Checked at"),
    "outcome": _l("Outcome"),
    "valid": _l("Valid invoice"),
    "type": _l("Invoice type"),
    "invoice_code": _l("Invoice code"),
    "invoice_number": _l("Invoice number"),
    "issue_date": _l("Issue date"),
    "amount": _l("Amount given"),
    "check_code": _l("Check code given (last 6 digits)"),
    "status": _l("Status"),
    "verification_count": _l("Check number"),
    "previous_check_at": _l("Previous check"),
    "seller_name": _l("Seller"),
    "seller_tax_id": _l("Seller's tax ID"),
    "buyer_name": _l("Buyer"),
    "buyer_tax_id": _l("Buyer's tax ID"),
    "amount_before_tax": _l("Amount before tax"),
    "tax": _l("Tax"),
    "total": _l("Total including tax"),
}


def signer() -> receipts.ReceiptSigner:
    """The app's signer, loaded (or its key generated) once per process."""
    cached = current_app.extensions.get("receipt_signer")
    if cached is None:
        cached = receipts.ReceiptSigner.from_directory(
            Path(current_app.config["YANPIAO_RECEIPT_KEY_DIR"])
        )
        current_app.extensions["receipt_signer"] = cached
    return cached


@bp.app_template_global()
def receipt_url(receipt_id: str, fmt: str | None = None, external: bool = False) -> str:
    """The share link of a receipt (page, ``pdf`` or ``txt``), token included."""
    endpoint = {"pdf": "receipts.pdf", "txt": "receipts.text"}.get(fmt or "", "receipts.show")
    values = {"receipt_id": receipt_id, "k": signer().link_token(receipt_id)}
    return external_url(endpoint, **values) if external else url_for(endpoint, **values)


def receipt_links() -> Callable[[str], str]:
    """``receipt_url(…, external=True)`` for many receipts, as a batch's download lists them:
    the address is built once (url_for took most of a 100,000-row CSV's time), then each
    receipt's number and token go into it; both are URL-safe as they are."""
    head, tail = external_url("receipts.show", receipt_id="RECEIPT", k="TOKEN").split("RECEIPT")
    key = signer()
    return lambda receipt_id: head + receipt_id + tail.replace("TOKEN", key.link_token(receipt_id))


def _readable(key: str, value: str) -> str:
    """A signed value as words and local formats; unknown values pass through as they are."""
    try:
        if key == "outcome":
            return str(messages.OUTCOME_NAMES[Outcome(value)])
        if key == "status":
            return str(messages.STATUS_NAMES[Status(value)])
        if key == "type":
            invoice_type = InvoiceType.from_code(value)
            return f"{messages.TYPE_NAMES[invoice_type]} ({value})" if invoice_type else value
        if key == "valid":
            return _("Yes") if value == "yes" else _("No")
        if key in ("checked_at", "previous_check_at"):
            return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")), "medium")
    except (KeyError, ValueError):
        pass
    return value


# Values that are codes, numbers or amounts: kept left-to-right, never translated.
CODE_KEYS = {"receipt", "invoice_code", "invoice_number", "issue_date", "amount", "check_code",
             "verification_count", "seller_tax_id", "buyer_tax_id", "amount_before_tax", "tax",
             "total"}


def readable_rows(fields: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(label, value, whether the value is a code) for people; unknown keys keep their name."""
    return [
        (str(LABELS.get(key, key)), _readable(key, value), key in CODE_KEYS)
        for key, value in fields
        if key and key != "format"
    ]


def verdict(fields: dict[str, str]) -> tuple[str, str]:
    """(tone, headline) of a receipt's outcome, worded like the verification result."""
    outcome = fields.get("outcome")
    if outcome == Outcome.MATCH and fields.get("valid") == "yes":
        return "ok", _("Valid invoice")
    if outcome == Outcome.MATCH:
        status = _readable("status", fields.get("status", ""))
        return "warn", _("Genuine, but %(status)s", status=status)
    try:
        name = str(messages.OUTCOME_NAMES[Outcome(outcome)])
    except (KeyError, ValueError):
        return "info", _("Unknown outcome")
    return ("bad" if outcome in (Outcome.NOT_FOUND, Outcome.MISMATCH) else "info"), name


def _record_or_404(receipt_id: str) -> VerificationRecord:
    """The owner's record, or anybody's with the right share token; else 404 alike."""
    if not receipts.RECEIPT_ID.match(receipt_id):
        abort(404)
    record = find_record(db.session, history_owner(), receipt_id)
    if record is None and signer().link_token_matches(receipt_id, request.args.get("k")):
        record = db.session.get(VerificationRecord, receipt_id)
    if record is None:
        abort(404)
    return record


def _signed(receipt_id: str) -> tuple[str, str]:
    """(canonical content, signed document) of a stored check."""
    record = _record_or_404(receipt_id)
    content = receipts.receipt_content(
        result_from_record(db.session, record, verification_settings())
    )
    return content, signer().document(content)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of Referer
    return response


@bp.get("/public-key")
def public_key():
    response = Response(signer().public_key_pem, mimetype="text/plain")
    response.headers["Content-Disposition"] = 'inline; filename="yanpiao-receipts.pub.pem"'
    return response


@bp.get("/<receipt_id>")
def show(receipt_id: str):
    content, document = _signed(receipt_id)
    check = signer().check(document)
    fields = dict(check.fields)
    link = receipt_url(receipt_id, external=True)
    svg = segno.make_qr(link, error="m").svg_inline(scale=3, border=2, omitsize=False)
    qr = Markup(svg)  # nosec B704 # SVG written by segno
    return _private(Response(render_template(
        "receipts/page.html", receipt_id=receipt_id, check=check, rows=readable_rows(check.fields),
        verdict=verdict(fields), document=document, qr=qr, link=link,
        fingerprint=signer().fingerprint,
    )))


@bp.get("/<receipt_id>.txt")
def text(receipt_id: str):
    _content, document = _signed(receipt_id)
    response = Response(document, mimetype="text/plain")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="yanpiao-receipt-{receipt_id}.txt"'
    )
    return _private(response)


@bp.get("/<receipt_id>.pdf")
def pdf(receipt_id: str):
    _content, document = _signed(receipt_id)
    check = signer().check(document)
    fields = dict(check.fields)
    language = current_language()
    spec = receipts.PdfReceipt(
        title=_("Yanpiao verification receipt"),
        verdict=verdict(fields)[1],
        rows=[(label, value) for label, value, _code in readable_rows(check.fields)],
        link=receipt_url(receipt_id, external=True),
        link_note=_("Scan the QR code or open this address to see this receipt online:"),
        document=document,
        notes=[
            _("This receipt is signed by Yanpiao. To check that nothing in it was changed, "
              "upload this PDF at %(url)s.", url=external_url("receipts.check")),
            _("Public key fingerprint: %(fingerprint)s", fingerprint=signer().fingerprint),
        ],
        lang=language["html_lang"],
        rtl=language["dir"] == "rtl",
        filename=f"yanpiao-receipt-{receipt_id}.txt",
    )
    font = receipts.find_cjk_font(current_app.config["YANPIAO_RECEIPT_FONT"])
    pdf = receipts.render_pdf(spec, font, receipts.find_fallback_font())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="yanpiao-receipt-{receipt_id}.pdf"'
    )
    return _private(response)


class CheckForm(FlaskForm):
    document = TextAreaField(_l("Paste the receipt text"), [MaxLength(20_000)])
    file = FileField(_l("Or choose the receipt file (PDF or text)"))

    def receipt_data(self) -> bytes | str | None:
        upload = self.file.data
        if upload and getattr(upload, "filename", ""):
            data = upload.read(MAX_RECEIPT_BYTES + 1)
            if len(data) > MAX_RECEIPT_BYTES:
                self.file.errors = [_("This file is larger than 2 MB; a receipt is smaller.")]
                return None
            return data
        if (self.document.data or "").strip():
            return self.document.data
        self.document.errors = [_("Paste the text of a receipt, or choose its file.")]
        return None

    def field_errors(self) -> list[tuple[str, str]]:
        return [(field.id, message) for field in self for message in field.errors]


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def check():
    """Checking stores nothing, so the answer comes straight back (no redirect)."""
    form = CheckForm()
    result = rows = tone = None
    if form.validate_on_submit():
        data = form.receipt_data()
        if data is not None:
            result = signer().check(data)
            rows = readable_rows(result.fields) if result.is_genuine else []
            tone = verdict(dict(result.fields)) if result.is_genuine else None
    # htmx swaps only 2xx answers: a fragment carries its errors with a 200.
    failed = form.is_submitted() and result is None and not wants_fragment()
    status = 422 if failed else 200
    return page_or_fragment(
        "receipts/check.html", "receipts/_check_result.html", status=status,
        form=form, result=result, rows=rows, tone=tone,
    )
