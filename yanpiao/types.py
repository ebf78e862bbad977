"""Invoice types, statuses, outcomes and entry paths: Yanpiao's own names for them.

The two-digit codes are how QR payloads and the import format spell invoice types; everywhere
inside Yanpiao an ``InvoiceType`` member is used instead.
"""

from __future__ import annotations

import enum


class ExtraField(enum.StrEnum):
    """The one field besides code/number/date that verification needs (DESIGN 1.2)."""

    PRETAX_AMOUNT = "pretax_amount"  # 合计金额 (不含税)
    CHECK_CODE = "check_code"  # 校验码后6位
    TOTAL = "total"  # 价税合计
    VEHICLE_PRICE = "vehicle_price"  # 车价合计 (used vehicles)

    @property
    def is_amount(self) -> bool:
        return self is not ExtraField.CHECK_CODE


class InvoiceType(enum.Enum):
    """Every invoice type Yanpiao verifies; the value is its QR/import type code."""

    VAT_SPECIAL = "01"
    MOTOR_VEHICLE = "03"
    VAT_ORDINARY = "04"
    VAT_ELECTRONIC_ORDINARY = "10"
    VAT_ROLL = "11"
    TOLL_ELECTRONIC = "14"
    USED_VEHICLE = "15"
    VAT_ELECTRONIC_SPECIAL = "20"
    DIGITAL_SPECIAL = "31"
    DIGITAL_ORDINARY = "32"

    @property
    def code(self) -> str:
        return self.value

    @property
    def is_digital(self) -> bool:
        """数电 invoices: 20-digit number, no invoice code."""
        return self in (InvoiceType.DIGITAL_SPECIAL, InvoiceType.DIGITAL_ORDINARY)

    @property
    def extra_field(self) -> ExtraField:
        return _EXTRA_FIELD[self]

    @property
    def service_code(self) -> str:
        """The code national verification services use (20 is called 08 there)."""
        return "08" if self is InvoiceType.VAT_ELECTRONIC_SPECIAL else self.value

    @classmethod
    def from_code(cls, code: str) -> InvoiceType | None:
        try:
            return cls(code)
        except ValueError:
            return None


_EXTRA_FIELD = {
    InvoiceType.VAT_SPECIAL: ExtraField.PRETAX_AMOUNT,
    InvoiceType.MOTOR_VEHICLE: ExtraField.PRETAX_AMOUNT,
    InvoiceType.VAT_ORDINARY: ExtraField.CHECK_CODE,
    InvoiceType.VAT_ELECTRONIC_ORDINARY: ExtraField.CHECK_CODE,
    InvoiceType.VAT_ROLL: ExtraField.CHECK_CODE,
    InvoiceType.TOLL_ELECTRONIC: ExtraField.CHECK_CODE,
    InvoiceType.USED_VEHICLE: ExtraField.VEHICLE_PRICE,
    InvoiceType.VAT_ELECTRONIC_SPECIAL: ExtraField.PRETAX_AMOUNT,
    InvoiceType.DIGITAL_SPECIAL: ExtraField.TOTAL,
    InvoiceType.DIGITAL_ORDINARY: ExtraField.TOTAL,
}


class Status(enum.StrEnum):
    """An invoice's standing in the registry; only NORMAL is a valid invoice."""

    NORMAL = "normal"
    VOID = "void"
    RED_REVERSED = "red_reversed"
    OUT_OF_CONTROL = "out_of_control"
    ABNORMAL = "abnormal"


class Outcome(enum.StrEnum):
    MATCH = "match"
    NOT_FOUND = "not_found"
    MISMATCH = "mismatch"
    INVALID = "invalid"
    LIMIT_EXCEEDED = "limit_exceeded"
    TOO_OLD = "too_old"
    FUTURE_DATE = "future_date"

    @property
    def is_refusal(self) -> bool:
        """Refused before the registry was asked: nothing recorded against an invoice."""
        return self in (Outcome.INVALID, Outcome.TOO_OLD, Outcome.FUTURE_DATE)


class EntryPath(enum.StrEnum):
    """How a verification request reached Yanpiao (for statistics and the audit log)."""

    TYPED = "typed"
    SCANNER = "scanner"
    PHOTO = "photo"
    PDF = "pdf"
    KIOSK_CAMERA = "kiosk_camera"
    API = "api"
    BATCH = "batch"
