"""POST /api/v1/decode: the QR codes in an uploaded photo, PDF or OFD (DESIGN 3.4)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from yanpiao.qr import NotInvoicePayload, parse_qr_payload

from ..ext import limiter
from ..messages import decode_error_message
from . import _api_limit, bp


def _code(text: str) -> dict:
    try:
        payload = parse_qr_payload(text)
    except NotInvoicePayload:
        return {"text": text, "invoice": None}
    invoice = {"type": payload.invoice_type.code, **payload.fields()}
    return {"text": text, "invoice": invoice}


@bp.post("/decode")
@limiter.limit(_api_limit)
def decode():
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    if upload is not None and upload.filename and not data:
        return jsonify(error="empty_file", message=decode_error_message("empty_file")), 422
    if not data:
        return jsonify(error="no_file", message=_("Send the image or file in a multipart field named “file”.")), 422
    # OpenCV and PDFium load with the first file a worker decodes, not with every worker.
    from yanpiao.decoder import DecodeError
    from yanpiao.efiles import decode_file

    try:
        texts = decode_file(data)
    except DecodeError as exc:
        if exc.reason == "no_code":  # the page's message offers a form a script does not have
            message = _("No QR code was found. Send a sharper picture with the whole code in it.")
        else:
            message = decode_error_message(exc.reason)
        return jsonify(error=exc.reason, message=message), 422
    return jsonify(codes=[_code(text) for text in texts])
