"""The verification form: the one place the web validates a typed invoice (DESIGN habit 5)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from yanpiao.requests import InvalidRequest, VerificationRequest, build_request
from yanpiao.types import EntryPath

from .messages import EXTRA_FIELD_LABELS, FIELD_LABELS, field_error_message
from yanpiao.types import ExtraField


class VerifyForm(FlaskForm):
    invoice_code = StringField(FIELD_LABELS["invoice_code"], [Length(max=40)])
    invoice_number = StringField(FIELD_LABELS["invoice_number"], [Length(max=60)])
    issue_date = StringField(FIELD_LABELS["issue_date"], [Length(max=40)])
    amount = StringField(EXTRA_FIELD_LABELS[ExtraField.PRETAX_AMOUNT], [Length(max=40)])
    check_code = StringField(EXTRA_FIELD_LABELS[ExtraField.CHECK_CODE], [Length(max=60)])

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
                getattr(self, name).errors = [field_error_message(error)]
            return False
        return True

    def field_errors(self) -> list[tuple[str, str]]:
        """(field id, message) in form order, for the error summary."""
        return [(field.id, message) for field in self if field.errors
                for message in field.errors if field.name != "csrf_token"]
