"""The JSON API (DESIGN 3.4): stateless, CSRF-exempt, rate-limited per client."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext

from yanpiao.types import EntryPath, Outcome
from yanpiao.db import utcnow
from yanpiao.verification import (VerificationResult, seconds_until_limits_restart,
                                  verify as verify_invoice)

from ..context import verification_settings
from ..ext import db, limiter
from ..messages import field_errors
from .openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

FIELDS = ("invoice_code", "invoice_number", "issue_date", "amount", "check_code")


def _api_limit() -> str:
    return current_app.config["YANPIAO_API_RATE_LIMIT"]


def result_body(result: VerificationResult) -> tuple[dict, int]:
    """A verification result in the API's shape and status code."""
    outcome = result.outcome
    if outcome in (Outcome.INVALID, Outcome.TOO_OLD, Outcome.FUTURE_DATE):
        return {"outcome": outcome.value, "errors": field_errors(result.errors)}, 422
    if outcome is Outcome.LIMIT_EXCEEDED:
        return {"outcome": outcome.value, "message": ngettext(
            "This invoice has already been checked %(num)d time today. Try again tomorrow.",
            "This invoice has already been checked %(num)d times today. Try again tomorrow.",
            current_app.config["YANPIAO_DAILY_LIMIT"],
        ), "receipt_id": result.receipt_id}, 429
    body: dict = {"outcome": outcome.value, "receipt_id": result.receipt_id}
    if outcome is Outcome.MATCH and result.invoice is not None:
        body.update(
            status=result.invoice.status.value,
            valid=result.is_valid,
            verification_count=result.verification_count,
            invoice=result.invoice.to_dict(),
        )
    return body, 200


def _invalid(field: str, message: str):
    return jsonify(outcome=Outcome.INVALID.value, errors={field: message}), 422


@bp.post("/verify")
@limiter.limit(_api_limit)
def verify():
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # arrays within arrays deeper than the parser goes: no invoice
        payload = None
    if not isinstance(payload, dict):
        return _invalid("body", _("Send a JSON object with the invoice fields or a QR text."))
    type_hint = None
    entry_path = EntryPath.API
    if "qr" in payload:
        from yanpiao.qr import NotInvoicePayload, parse_qr_payload

        try:
            parsed = parse_qr_payload(payload["qr"])
        except NotInvoicePayload:
            return _invalid("qr", _("This is not an invoice QR code."))
        fields, type_hint = parsed.fields(), parsed.invoice_type
    else:
        fields = {}
        for name in FIELDS:
            value = payload.get(name)
            if value is not None and not isinstance(value, (str, int, float)):
                return _invalid(name, _("This field must be text."))
            fields[name] = "" if value is None else str(value)
    settings = verification_settings()
    result = verify_invoice(db.session, fields, entry_path=entry_path, type_hint=type_hint,
                            settings=settings)
    body, status = result_body(result)
    response = jsonify(body)
    if result.outcome is Outcome.LIMIT_EXCEEDED:
        # The invoice's own limit restarts at midnight, not with this client's rate limit.
        response.headers["Retry-After"] = str(seconds_until_limits_restart(utcnow(), settings))
    return response, status


@bp.get("/openapi.json")
@limiter.exempt
def openapi():
    return jsonify(document())


from . import batch  # noqa: E402,F401  (registers /batch on this blueprint)
from . import decode  # noqa: E402,F401  (registers /decode on this blueprint)
