"""Turn what people type (or scanners send) into clean values.

Every function raises ``ValueError`` for input it cannot read; callers turn that into a
field error.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Larger than any invoice: amounts are stored as whole cents in 64-bit integers, and sums of
# many of them must fit too.
MAX_AMOUNT = Decimal("999999999999.99")

_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")
_CURRENCY_BEFORE = re.compile(r"^-?(?:CN¥|CNY|RMB|¥)", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"(?:CN¥|CNY|RMB|元)$", re.IGNORECASE)
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")


def fold(text: str) -> str:
    """Full-width to ASCII (NFKC), BOM and surrounding white space removed."""
    return unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip()


def digits(text: str) -> str:
    """An all-digit string from text with spaces, dashes and full-width digits."""
    cleaned = _SEPARATORS.sub("", fold(text))
    if not cleaned.isascii() or not cleaned.isdigit():
        raise ValueError("not digits")
    return cleaned


def parse_date(text: str) -> date:
    """``2024-10-25``, ``20241025``, ``2024/10/25``, ``2024.10.25`` or ``2024年10月25日``."""
    cleaned = re.sub(r"\s+", "", fold(text))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)  # ValueError for 2024-02-30
    raise ValueError("not a date")


class AmountTooLarge(ValueError):
    """An amount beyond ``MAX_AMOUNT`` either way: a slip of the keyboard, not an invoice."""


def parse_amount(text: str) -> Decimal:
    """Yuan to the cent from ``1,234.5``, ``¥1234.50``, ``CN¥1,234.50``, ``１２３４``, ``1234元``.

    Raises ``AmountTooLarge`` beyond ``MAX_AMOUNT``, ``ValueError`` for anything else unread.
    """
    cleaned = re.sub(r"\s+", "", fold(text))
    # "CN¥64,990.00" and "64,990.00 CN¥" are how this site itself shows yuan in some languages.
    cleaned = _CURRENCY_BEFORE.sub(lambda m: "-" if m.group(0).startswith("-") else "", cleaned,
                                   count=1)
    cleaned = _CURRENCY_AFTER.sub("", cleaned, count=1)
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    if cleaned.endswith("."):
        cleaned = cleaned[:-1]
    if not _AMOUNT.match(cleaned):
        raise ValueError("not an amount")
    try:
        amount = Decimal(cleaned).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # pragma: no cover - the pattern rules this out
        raise ValueError("not an amount") from exc
    if abs(amount) > MAX_AMOUNT:
        raise AmountTooLarge("amount too large")
    return amount


def money(value: Decimal | str | int | float) -> Decimal:
    """An amount from stored or imported data, to the cent."""
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError("not an amount") from exc
