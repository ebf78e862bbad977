"""The verification form: the one place the web validates a typed invoice (DESIGN habit 5)."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField

from yanpiao.requests import InvalidRequest, VerificationRequest, build_request
from yanpiao.types import EntryPath

from .messages import (
    EXTRA_FIELD_LABELS,
    FIELD_LABELS,
    NO_INVOICE_CODE,
    NOT_AN_INVOICE_QR,
    OTHER_CODES_ONLY,
    PHOTO_REQUIRED,
    SCAN_REQUIRED,
    SEVERAL_INVOICES,
    decode_error_message,
    field_error_message,
)
from .validators import MaxLength
from yanpiao.types import ExtraField


def _new_submission_key() -> str:
    return secrets.token_urlsafe(16)


class CheckForm(FlaskForm):
    """A form that checks an invoice, with a one-time key that makes it count once when the
    browser sends it twice (``yanpiao.verification.receipt_id_for``)."""

    submission = HiddenField(default=_new_submission_key)

    def submission_key(self) -> str:
        return (self.submission.data or "")[:64]

    def renew_submission(self) -> None:
        """After a check: the form shown again is a new submission."""
        self.submission.data = _new_submission_key()


class VerifyForm(CheckForm):
    invoice_code = StringField(FIELD_LABELS["invoice_code"], [MaxLength(40)])
    invoice_number = StringField(FIELD_LABELS["invoice_number"], [MaxLength(60)])
    issue_date = StringField(FIELD_LABELS["issue_date"], [MaxLength(40)])
    amount = StringField(EXTRA_FIELD_LABELS[ExtraField.PRETAX_AMOUNT], [MaxLength(40)])
    check_code = StringField(EXTRA_FIELD_LABELS[ExtraField.CHECK_CODE], [MaxLength(60)])

    verification_request: VerificationRequest | None = None

    def raw_fields(self) -> dict[str, str]:
        return {
            name: (getattr(self, name).data or "")
            for name in ("invoice_code", "invoice_number", "issue_date", "amount", "check_code")
        }

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            self.verification_request = build_request(self.raw_fields(), entry_path=EntryPath.TYPED)
        except InvalidRequest as exc:
            for name, error in exc.errors.items():
                getattr(self, name).errors = [field_error_message(error, name)]
            return False
        return True

    def field_errors(self) -> list[tuple[str, str]]:
        """(field id, message) in form order, for the error summary."""
        return [(field.id, message) for field in self if field.errors
                for message in field.errors if field.name != "csrf_token"]


class ScanForm(CheckForm):
    """The QR text a handheld scanner types (then Enter), or a pasted payload."""

    qr = StringField(FIELD_LABELS["qr"], [MaxLength(2000)])

    payload = None  # a yanpiao.qr.QrPayload once valid

    def validate(self, extra_validators=None) -> bool:
        from yanpiao.qr import NotInvoicePayload, parse_qr_payload

        if not super().validate(extra_validators):
            self.qr.errors = [str(NOT_AN_INVOICE_QR)]
            return False
        if not (self.qr.data or "").strip():
            self.qr.errors = [str(SCAN_REQUIRED)]
            return False
        try:
            self.payload = parse_qr_payload(self.qr.data)
        except NotInvoicePayload:
            self.qr.errors = [str(NOT_AN_INVOICE_QR)]
            return False
        return True

    def field_errors(self) -> list[tuple[str, str]]:
        return [(self.qr.id, message) for message in self.qr.errors]


class PhotoForm(CheckForm):
    """A photo of the invoice, or its PDF/OFD e-invoice file."""

    photo = FileField(FIELD_LABELS["photo"])

    payload = None
    entry_path = EntryPath.PHOTO

    def validate(self, extra_validators=None) -> bool:
        from yanpiao.decoder import DecodeError
        from yanpiao.efiles import decode_file, sniff_file_type
        from yanpiao.qr import NotInvoicePayload, parse_qr_payload

        if not super().validate(extra_validators):
            return False
        upload = self.photo.data
        data = upload.read() if upload else b""
        if not data:
            # A file with nothing in it (a failed download, a photo still syncing) was chosen.
            chosen = upload is not None and bool(upload.filename)
            self.photo.errors = [decode_error_message("empty_file") if chosen
                                 else str(PHOTO_REQUIRED)]
            return False
        kind = sniff_file_type(data)
        self.entry_path = EntryPath.PDF if kind in ("pdf", "ofd") else EntryPath.PHOTO
        try:
            texts = decode_file(data)
        except DecodeError as exc:
            self.photo.errors = [decode_error_message(exc.reason)]
            return False
        payloads = []
        for text in texts:
            try:
                payloads.append(parse_qr_payload(text))
            except NotInvoicePayload:
                continue  # other codes on the page: a shop's, a URL
        if not payloads:
            # Other codes were read: a retake of the same code would not help.
            self.photo.errors = [str(OTHER_CODES_ONLY if texts else NO_INVOICE_CODE)]
            return False
        if len({(p.invoice_code, p.invoice_number) for p in payloads}) > 1:
            self.photo.errors = [str(SEVERAL_INVOICES)]
            return False
        self.payload = payloads[0]
        return True

    def field_errors(self) -> list[tuple[str, str]]:
        return [(self.photo.id, message) for message in self.photo.errors]
