"""The text inside an invoice's QR code (DESIGN 1.1), read into a ``QrPayload``.

Whatever reaches ``parse_qr_payload`` comes from strangers: a camera, a handheld scanner
typing into a field, an upload. So it either returns a payload or raises
``NotInvoicePayload``, never anything else, and the caller can always answer "this is not an
invoice QR code".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import codes, normalize
from .types import InvoiceType

VERSION = "01"

# Real payloads are 50-80 characters; anything much longer is some other code, and refusing it
# early keeps Unicode normalisation of a hostile megabyte off the request path.
MAX_PAYLOAD_LENGTH = 256

_DIGITS = re.compile(r"[0-9]+")
_CHECK_CODE = re.compile(r"[0-9]{20}")
_CRC = re.compile(r"[0-9A-Fa-f]{4}")
_ISSUE_DATE = re.compile(r"[0-9]{8}")


class Refusal(enum.StrEnum):
    """Which part of the text gave it away as not an invoice payload (for logs and tests)."""

    NOT_TEXT = "not_text"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    SHAPE = "shape"
    VERSION = "version"
    TYPE = "type"
    CODE = "code"
    NUMBER = "number"
    AMOUNT = "amount"
    DATE = "date"
    TRAILER = "trailer"


class NotInvoicePayload(ValueError):
    """The text is not the payload of an invoice QR code (a URL, a product barcode, ...)."""

    def __init__(self, refusal: Refusal):
        super().__init__(f"not an invoice QR payload ({refusal})")
        self.refusal = refusal


@dataclass(frozen=True)
class QrPayload:
    version: str
    invoice_type: InvoiceType
    invoice_code: str  # '' for 数电 (31/32): the code plays no part in finding those
    invoice_number: str
    # Pre-tax 合计金额 for legacy types, tax-inclusive 价税合计 for 数电: the amount each type
    # is verified with (DESIGN 1.2), so it goes into the request's "amount" as it is.
    amount: Decimal
    issue_date: date
    check_code: str  # all 20 digits, '' when the code carries none
    crc: str  # 4 hex digits upper-cased, '' when the code carries none

    def fields(self) -> dict[str, str]:
        """The fields ``requests.build_request`` takes (pass ``type_hint=self.invoice_type``)."""
        return {
            "invoice_code": self.invoice_code,
            "invoice_number": self.invoice_number,
            "issue_date": self.issue_date.isoformat(),
            "amount": str(self.amount),
            "check_code": self.check_code,
        }


@dataclass(frozen=True)
class DecodedCode:
    """One code found in a picture or file, with its payload when it is an invoice's."""

    text: str
    payload: QrPayload | None

    @classmethod
    def from_text(cls, text: str) -> DecodedCode:
        try:
            return cls(text, parse_qr_payload(text))
        except NotInvoicePayload:
            return cls(text, None)


def parse_qr_payload(text: str) -> QrPayload:
    """Read the payload of an invoice QR code, or raise ``NotInvoicePayload``.

    Tolerates what real codes and scanners produce: full-width commas, a BOM, surrounding
    white space and the scanner's Enter, a trailing comma or none, amounts without cents,
    lower-case hex, and a check-code slot left out altogether.
    """
    if not isinstance(text, str):
        raise NotInvoicePayload(Refusal.NOT_TEXT)
    if len(text) > MAX_PAYLOAD_LENGTH:
        raise NotInvoicePayload(Refusal.TOO_LONG)
    folded = normalize.fold(text)  # full-width commas become ASCII commas here
    if not folded:
        raise NotInvoicePayload(Refusal.EMPTY)
    parts = [part.strip() for part in folded.split(",")]
    if len(parts) < 6:
        raise NotInvoicePayload(Refusal.SHAPE)
    version, type_code, code, number, amount_text, date_text = parts[:6]

    if version != VERSION:
        raise NotInvoicePayload(Refusal.VERSION)
    invoice_type = InvoiceType.from_code(type_code)
    if invoice_type is None:
        raise NotInvoicePayload(Refusal.TYPE)

    if invoice_type.is_digital:
        # A paper 数电 invoice may print a code; it must still look like one.
        if code and not (_DIGITS.fullmatch(code) and len(code) in (10, 12)):
            raise NotInvoicePayload(Refusal.CODE)
        code = ""
        number_length = codes.DIGITAL_NUMBER_LENGTH
    else:
        if not (_DIGITS.fullmatch(code) and len(code) in (10, 12)):
            raise NotInvoicePayload(Refusal.CODE)
        number_length = codes.LEGACY_NUMBER_LENGTH
    if not (_DIGITS.fullmatch(number) and len(number) == number_length):
        raise NotInvoicePayload(Refusal.NUMBER)

    try:
        amount = normalize.parse_amount(amount_text)
    except ValueError:
        raise NotInvoicePayload(Refusal.AMOUNT) from None
    if not _ISSUE_DATE.fullmatch(date_text):
        raise NotInvoicePayload(Refusal.DATE)
    try:
        issue_date = normalize.parse_date(date_text)
    except ValueError:
        raise NotInvoicePayload(Refusal.DATE) from None

    check_code, crc = _read_trailer(parts[6:])
    return QrPayload(
        version=version,
        invoice_type=invoice_type,
        invoice_code=code,
        invoice_number=number,
        amount=amount,
        issue_date=issue_date,
        check_code=check_code,
        crc=crc,
    )


def _read_trailer(trailer: list[str]) -> tuple[str, str]:
    """Check code and 4-hex field from what follows the date.

    Recognised by their shapes rather than their slots: one 专票 sample leaves the check-code
    slot out altogether, so the 4-hex field sits where the check code should be.
    """
    while trailer and not trailer[-1]:
        trailer = trailer[:-1]
    check_code = crc = ""
    if len(trailer) > 2:
        raise NotInvoicePayload(Refusal.TRAILER)
    if len(trailer) == 2:
        first, second = trailer
        if first and not _CHECK_CODE.fullmatch(first):
            raise NotInvoicePayload(Refusal.TRAILER)
        if not _CRC.fullmatch(second):
            raise NotInvoicePayload(Refusal.TRAILER)
        check_code, crc = first, second
    elif len(trailer) == 1:
        (only,) = trailer
        if _CHECK_CODE.fullmatch(only):
            check_code = only
        elif _CRC.fullmatch(only):
            crc = only
        else:
            raise NotInvoicePayload(Refusal.TRAILER)
    return check_code, crc.upper()


def find_invoice_payload(texts: Iterable[str]) -> QrPayload | None:
    """The first invoice payload among several decoded texts (a photo may show other codes)."""
    for text in texts:
        try:
            return parse_qr_payload(text)
        except NotInvoicePayload:
            continue
    return None
