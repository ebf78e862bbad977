"""What an invoice code or number says about itself (DESIGN 1.3)."""

from __future__ import annotations

from .types import InvoiceType

# Kind of a 12-digit code starting with 0: its last two digits.
_KIND_12 = {
    "11": InvoiceType.VAT_ELECTRONIC_ORDINARY,
    "04": InvoiceType.VAT_ORDINARY,
    "05": InvoiceType.VAT_ORDINARY,
    "06": InvoiceType.VAT_ROLL,
    "07": InvoiceType.VAT_ROLL,
    "12": InvoiceType.TOLL_ELECTRONIC,
    "13": InvoiceType.VAT_ELECTRONIC_SPECIAL,
    "17": InvoiceType.USED_VEHICLE,
}

# Kind of a 10-digit code: its 8th digit. ``None`` marks the freight invoice (02), a legacy type
# abolished in 2016 that Yanpiao recognises but does not verify.
_KIND_10: dict[str, InvoiceType | None] = {
    "1": InvoiceType.VAT_SPECIAL,
    "5": InvoiceType.VAT_SPECIAL,
    "3": InvoiceType.VAT_ORDINARY,
    "6": InvoiceType.VAT_ORDINARY,
    "2": None,
    "7": None,
}

# Cities planned separately from their province keep their own four-digit region.
SEPARATE_CITIES = frozenset({"2102", "3302", "3502", "3702", "4403"})

PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
    .split()
)

LEGACY_NUMBER_LENGTH = 8
DIGITAL_NUMBER_LENGTH = 20


class UnknownCodeKind(ValueError):
    """The code has the right length but names no invoice kind."""


class UnsupportedInvoiceType(ValueError):
    """The code names a real but retired invoice type (freight, 02)."""


def type_from_code(code: str) -> InvoiceType:
    """Derive the invoice type from a 10- or 12-digit invoice code of digits only."""
    if len(code) == 12:
        if code[0] == "0":
            kind = _KIND_12.get(code[-2:])
            if kind is None:
                raise UnknownCodeKind(code)
            return kind
        if code[7] == "2":
            return InvoiceType.MOTOR_VEHICLE
        raise UnknownCodeKind(code)
    if len(code) == 10:
        if code[7] not in _KIND_10:
            raise UnknownCodeKind(code)
        kind10 = _KIND_10[code[7]]
        if kind10 is None:
            raise UnsupportedInvoiceType(code)
        return kind10
    raise ValueError(f"an invoice code has 10 or 12 digits, not {len(code)}")


def _round_region(region: str) -> str:
    return region if region in SEPARATE_CITIES else region[:2] + "00"


def region_of_code(code: str) -> str | None:
    """Four-digit region of issue, e.g. ``1100`` (Beijing) or ``4403`` (Shenzhen)."""
    if len(code) == 10:
        region = code[0:4]
    elif len(code) == 12:
        region = code[1:5]
    else:
        return None
    if region[:2] not in PROVINCES:
        return None
    return _round_region(region)


def region_of_digital_number(number: str) -> str | None:
    """Province of a 20-digit 数电 number (digits 3-4), as a region like ``1100``."""
    if len(number) != DIGITAL_NUMBER_LENGTH or number[2:4] not in PROVINCES:
        return None
    return number[2:4] + "00"


def year_of_code(code: str) -> int | None:
    """Two-digit year the code block was printed in, as a full year."""
    digits = code[4:6] if len(code) == 10 else code[5:7] if len(code) == 12 else ""
    return 2000 + int(digits) if digits.isdecimal() else None
