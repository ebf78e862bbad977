"""One ``VerificationRequest`` from whatever the visitor gave, validated field by field."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import codes, normalize
from .types import EntryPath, ExtraField, InvoiceType

FIELDS = ("invoice_code", "invoice_number", "issue_date", "amount", "check_code")


class ErrorCode(enum.StrEnum):
    """Why a field was refused; the web layer words each one in the visitor's language."""

    REQUIRED = "required"
    CODE_NOT_DIGITS = "code_not_digits"
    CODE_LENGTH = "code_length"
    CODE_UNKNOWN_KIND = "code_unknown_kind"
    CODE_UNSUPPORTED = "code_unsupported"
    CODE_REQUIRED = "code_required"
    NUMBER_NOT_DIGITS = "number_not_digits"
    NUMBER_LENGTH = "number_length"
    NUMBER_LENGTH_FOR_DIGITAL = "number_length_for_digital"
    DATE_INVALID = "date_invalid"
    AMOUNT_INVALID = "amount_invalid"
    AMOUNT_TOO_LARGE = "amount_too_large"
    AMOUNT_REQUIRED = "amount_required"
    CHECK_CODE_INVALID = "check_code_invalid"
    CHECK_CODE_REQUIRED = "check_code_required"
    TOO_OLD = "too_old"
    FUTURE_DATE = "future_date"


@dataclass(frozen=True)
class FieldError:
    code: ErrorCode
    # What the message needs besides the code: the extra field the invoice needs, limits.
    params: Mapping[str, object] = field(default_factory=dict)


class InvalidRequest(Exception):
    def __init__(self, errors: dict[str, FieldError]):
        super().__init__(", ".join(f"{name}: {err.code}" for name, err in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class VerificationRequest:
    """A well-formed request: every path into Yanpiao produces one of these."""

    invoice_number: str
    issue_date: date
    extra_field: ExtraField
    invoice_code: str = ""
    # None for a typed 数电 number: it does not say whether it is special (31) or ordinary (32).
    invoice_type: InvoiceType | None = None
    amount: Decimal | None = None
    check_code: str | None = None  # last six digits
    entry_path: EntryPath = EntryPath.TYPED

    @property
    def is_digital(self) -> bool:
        return len(self.invoice_number) == codes.DIGITAL_NUMBER_LENGTH

    def given_fields(self) -> dict[str, str]:
        """The fields as the visitor gave them (normalised), for history and receipts."""
        return {
            "invoice_code": self.invoice_code,
            "invoice_number": self.invoice_number,
            "issue_date": self.issue_date.isoformat(),
            "amount": "" if self.amount is None else str(self.amount),
            "check_code": self.check_code or "",
        }


@dataclass(frozen=True)
class FieldPlan:
    """What the form should ask for, given the code and number typed so far."""

    invoice_type: InvoiceType | None
    extra_field: ExtraField | None
    code_needed: bool

    @property
    def key(self) -> str:
        """Equal for two plans that show the same fields and notes."""
        kind = self.invoice_type.code if self.invoice_type else ""
        extra = self.extra_field.value if self.extra_field else ""
        return f"{kind}:{extra}:{int(self.code_needed)}"


def plan_fields(invoice_code: str = "", invoice_number: str = "") -> FieldPlan:
    """Which extra field and whether a code is needed, from partial input; never raises."""
    try:
        number = normalize.digits(invoice_number) if invoice_number.strip() else ""
    except ValueError:
        number = ""
    if len(number) == codes.DIGITAL_NUMBER_LENGTH:
        return FieldPlan(None, ExtraField.TOTAL, code_needed=False)
    try:
        invoice_type = codes.type_from_code(normalize.digits(invoice_code))
    except ValueError:
        return FieldPlan(None, None, code_needed=True)
    return FieldPlan(invoice_type, invoice_type.extra_field, code_needed=True)


def _clean_code(raw: str, errors: dict[str, FieldError]) -> tuple[str, InvoiceType | None]:
    try:
        code = normalize.digits(raw)
    except ValueError:
        errors["invoice_code"] = FieldError(ErrorCode.CODE_NOT_DIGITS)
        return "", None
    if len(code) not in (10, 12):
        errors["invoice_code"] = FieldError(ErrorCode.CODE_LENGTH, {"length": len(code)})
        return code, None
    try:
        return code, codes.type_from_code(code)
    except codes.UnsupportedInvoiceType:
        errors["invoice_code"] = FieldError(ErrorCode.CODE_UNSUPPORTED)
    except codes.UnknownCodeKind:
        errors["invoice_code"] = FieldError(ErrorCode.CODE_UNKNOWN_KIND)
    return code, None


def _read_amount(raw: str, errors: dict[str, FieldError]) -> Decimal | None:
    try:
        return normalize.parse_amount(raw)
    except normalize.AmountTooLarge:
        errors["amount"] = FieldError(ErrorCode.AMOUNT_TOO_LARGE)
    except ValueError:
        errors["amount"] = FieldError(ErrorCode.AMOUNT_INVALID)
    return None


def build_request(
    fields: Mapping[str, str | None],
    *,
    entry_path: EntryPath = EntryPath.TYPED,
    type_hint: InvoiceType | None = None,
) -> VerificationRequest:
    """Validate raw fields into a request or raise ``InvalidRequest`` with every field's error.

    ``type_hint`` comes from a QR payload, which names the type a 数电 number cannot.
    Whether the date is too old or in the future is ``check_issue_date``'s business: those
    are outcomes of their own, not malformed input.
    """
    raw = {name: (fields.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, FieldError] = {}

    number = ""
    if not raw["invoice_number"]:
        errors["invoice_number"] = FieldError(ErrorCode.REQUIRED)
    else:
        try:
            number = normalize.digits(raw["invoice_number"])
        except ValueError:
            errors["invoice_number"] = FieldError(ErrorCode.NUMBER_NOT_DIGITS)
        else:
            if len(number) not in (codes.LEGACY_NUMBER_LENGTH, codes.DIGITAL_NUMBER_LENGTH):
                errors["invoice_number"] = FieldError(
                    ErrorCode.NUMBER_LENGTH, {"length": len(number)}
                )
    digital = len(number) == codes.DIGITAL_NUMBER_LENGTH

    code, invoice_type = "", None
    if type_hint is not None and type_hint.is_digital:
        digital = True
        if number and not errors.get("invoice_number") and len(number) != 20:
            errors["invoice_number"] = FieldError(ErrorCode.NUMBER_LENGTH_FOR_DIGITAL)
    if digital:
        # A paper 数电 invoice may print a code; it plays no part in finding the invoice.
        invoice_type = type_hint if type_hint is not None and type_hint.is_digital else None
    elif raw["invoice_code"]:
        code, invoice_type = _clean_code(raw["invoice_code"], errors)
    elif number or "invoice_number" not in errors:
        errors["invoice_code"] = FieldError(ErrorCode.CODE_REQUIRED)

    issue_date = None
    if not raw["issue_date"]:
        errors["issue_date"] = FieldError(ErrorCode.REQUIRED)
    else:
        try:
            issue_date = normalize.parse_date(raw["issue_date"])
        except ValueError:
            errors["issue_date"] = FieldError(ErrorCode.DATE_INVALID)

    extra = ExtraField.TOTAL if digital else (invoice_type.extra_field if invoice_type else None)
    amount, check_code = None, None
    if extra is None:
        # The type is unknown (the code is wrong): check what was given, as far as it goes.
        if raw["amount"]:
            _read_amount(raw["amount"], errors)
    elif extra.is_amount:
        if not raw["amount"]:
            errors["amount"] = FieldError(ErrorCode.AMOUNT_REQUIRED, {"extra_field": extra})
        else:
            amount = _read_amount(raw["amount"], errors)
    else:
        if not raw["check_code"]:
            errors["check_code"] = FieldError(ErrorCode.CHECK_CODE_REQUIRED, {"extra_field": extra})
        else:
            try:
                given = normalize.digits(raw["check_code"])
            except ValueError:
                given = ""
            if len(given) not in (6, 20):
                errors["check_code"] = FieldError(ErrorCode.CHECK_CODE_INVALID)
            else:
                check_code = given[-6:]

    if errors:
        raise InvalidRequest(errors)
    assert issue_date is not None and extra is not None
    return VerificationRequest(
        invoice_number=number,
        issue_date=issue_date,
        extra_field=extra,
        invoice_code=code,
        invoice_type=invoice_type,
        amount=amount,
        check_code=check_code,
        entry_path=entry_path,
    )


def check_issue_date(issue_date: date, today: date, max_age_years: int) -> FieldError | None:
    """A refusal for a date in the future or more than ``max_age_years`` back, else None."""
    if issue_date > today:
        return FieldError(ErrorCode.FUTURE_DATE)
    if issue_date < oldest_allowed(today, max_age_years):
        return FieldError(ErrorCode.TOO_OLD, {"years": max_age_years})
    return None


def oldest_allowed(today: date, max_age_years: int) -> date:
    """The earliest issue date still verifiable: the same day ``max_age_years`` ago."""
    try:
        return today.replace(year=today.year - max_age_years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - max_age_years, day=28)
