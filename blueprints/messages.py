"""Words for the domain's names: types, statuses, outcomes, field errors, regions.

The domain speaks in enums and error codes; this is the one place that puts them into the
visitor's language.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l

from yanpiao.registry import Reason
from yanpiao.requests import ErrorCode, FieldError
from yanpiao.types import EntryPath, ExtraField, InvoiceType, Outcome, Status

TYPE_NAMES = {
    InvoiceType.VAT_SPECIAL: _l("VAT special invoice"),
    InvoiceType.MOTOR_VEHICLE: _l("Motor vehicle sales invoice"),
    InvoiceType.VAT_ORDINARY: _l("VAT ordinary invoice (paper)"),
    InvoiceType.VAT_ELECTRONIC_ORDINARY: _l("VAT ordinary invoice (electronic)"),
    InvoiceType.VAT_ROLL: _l("VAT ordinary invoice (roll)"),
    InvoiceType.TOLL_ELECTRONIC: _l("Toll invoice (electronic)"),
    InvoiceType.USED_VEHICLE: _l("Used vehicle sales invoice"),
    InvoiceType.VAT_ELECTRONIC_SPECIAL: _l("VAT special invoice (electronic)"),
    InvoiceType.DIGITAL_SPECIAL: _l("Fully digital invoice (special)"),
    InvoiceType.DIGITAL_ORDINARY: _l("Fully digital invoice (ordinary)"),
}

STATUS_NAMES = {
    Status.NORMAL: _l("Normal"),
    Status.VOID: _l("Voided"),
    Status.RED_REVERSED: _l("Red-reversed"),
    Status.OUT_OF_CONTROL: _l("Out of control"),
    Status.ABNORMAL: _l("Abnormal"),
}

# The heading of a genuine invoice that is not in force: a sentence of its own for each status,
# not a status name put into a sentence ("Genuine, but Voided").
GENUINE_BUT = {
    Status.VOID: _l("Genuine, but voided"),
    Status.RED_REVERSED: _l("Genuine, but red-reversed"),
    Status.OUT_OF_CONTROL: _l("Genuine, but out of control"),
    Status.ABNORMAL: _l("Genuine, but flagged as abnormal"),
}

STATUS_EXPLANATIONS = {
    Status.VOID: _l(
        "The seller cancelled this invoice after issuing it. It cannot be used to claim "
        "expenses or deduct tax."
    ),
    Status.RED_REVERSED: _l(
        "A red (negative) invoice was issued against this one, cancelling it in whole or in "
        "part. Ask the seller for the corrected invoice."
    ),
    Status.OUT_OF_CONTROL: _l(
        "The tax authority has flagged the issuer as out of control. Ask the seller or your "
        "tax office."
    ),
    Status.ABNORMAL: _l(
        "The tax authority has marked this invoice as abnormal. It cannot be used for tax "
        "deduction until the matter is cleared."
    ),
}

OUTCOME_NAMES = {
    Outcome.MATCH: _l("Found"),
    Outcome.NOT_FOUND: _l("Not found"),
    Outcome.MISMATCH: _l("Details don't match"),
    Outcome.INVALID: _l("Please correct the form"),
    Outcome.LIMIT_EXCEEDED: _l("Daily limit reached"),
    Outcome.TOO_OLD: _l("Too old to verify"),
    Outcome.FUTURE_DATE: _l("Date in the future"),
}

ENTRY_PATH_NAMES = {
    EntryPath.TYPED: _l("Typed"),
    EntryPath.SCANNER: _l("Scanner"),
    EntryPath.PHOTO: _l("Photo"),
    EntryPath.PDF: _l("E-invoice file"),
    EntryPath.KIOSK_CAMERA: _l("Kiosk camera"),
    EntryPath.API: _l("API"),
    EntryPath.BATCH: _l("Batch"),
}

AMOUNT_REQUIRED = {
    ExtraField.PRETAX_AMOUNT: _l(
        "This invoice is verified with its amount before tax, not the check code. Enter "
        "the amount here."
    ),
    ExtraField.TOTAL: _l(
        "A fully digital invoice is verified with its total including tax. Enter the total "
        "here."
    ),
    ExtraField.VEHICLE_PRICE: _l(
        "A used vehicle invoice is verified with its total vehicle price. Enter it here."
    ),
}

EXTRA_FIELD_LABELS = {
    ExtraField.PRETAX_AMOUNT: _l("Amount before tax"),
    ExtraField.TOTAL: _l("Total including tax"),
    ExtraField.VEHICLE_PRICE: _l("Total vehicle price"),
    ExtraField.CHECK_CODE: _l("Check code (last 6 digits)"),
}

EXTRA_FIELD_HINTS = {
    ExtraField.PRETAX_AMOUNT: _l(
        "The 合计 amount without tax, bottom right of the goods table, e.g. 1000.00."
    ),
    ExtraField.TOTAL: _l(
        "The 价税合计 total including tax, in figures, e.g. 1130.00."
    ),
    ExtraField.VEHICLE_PRICE: _l("The 车价合计 total vehicle price, e.g. 86000.00."),
    ExtraField.CHECK_CODE: _l(
        "The last 6 digits of the 20-digit 校验码 printed top right, e.g. 294433."
    ),
}

REGION_NAMES = {
    "1100": _l("Beijing"), "1200": _l("Tianjin"), "1300": _l("Hebei"), "1400": _l("Shanxi"),
    "1500": _l("Inner Mongolia"), "2100": _l("Liaoning"), "2102": _l("Dalian"),
    "2200": _l("Jilin"), "2300": _l("Heilongjiang"), "3100": _l("Shanghai"),
    "3200": _l("Jiangsu"), "3300": _l("Zhejiang"), "3302": _l("Ningbo"), "3400": _l("Anhui"),
    "3500": _l("Fujian"), "3502": _l("Xiamen"), "3600": _l("Jiangxi"), "3700": _l("Shandong"),
    "3702": _l("Qingdao"), "4100": _l("Henan"), "4200": _l("Hubei"), "4300": _l("Hunan"),
    "4400": _l("Guangdong"), "4403": _l("Shenzhen"), "4500": _l("Guangxi"),
    "4600": _l("Hainan"), "5000": _l("Chongqing"), "5100": _l("Sichuan"),
    "5200": _l("Guizhou"), "5300": _l("Yunnan"), "5400": _l("Tibet"), "6100": _l("Shaanxi"),
    "6200": _l("Gansu"), "6300": _l("Qinghai"), "6400": _l("Ningxia"), "6500": _l("Xinjiang"),
}

FIELD_LABELS = {
    "invoice_code": _l("Invoice code"),
    "invoice_number": _l("Invoice number"),
    "issue_date": _l("Issue date"),
    "amount": _l("Amount"),
    "check_code": _l("Check code (last 6 digits)"),
    "qr": _l("Scan or paste the QR code"),
    "photo": _l("Photo of the invoice, or its PDF or OFD file"),
}


REQUIRED_MESSAGES = {
    "invoice_code": _l("Enter the invoice code."),
    "invoice_number": _l("Enter the invoice number."),
    "issue_date": _l("Enter the issue date."),
    "amount": _l("Enter the amount."),
    "check_code": _l("Enter the last 6 digits of the check code."),
}


def field_error_message(error: FieldError, field: str | None = None) -> str:
    """One field error as a whole sentence in the visitor's language.

    ``field`` names the field, so that an error summary never lists two identical lines.
    """
    code, params = error.code, error.params
    if code is ErrorCode.REQUIRED:
        return str(REQUIRED_MESSAGES.get(field or "", _l("Enter this field.")))
    if code is ErrorCode.CODE_NOT_DIGITS:
        return _("The invoice code is made of digits only.")
    if code is ErrorCode.CODE_LENGTH:
        return _(
            "The invoice code has 10 or 12 digits; you entered %(length)d.",
            length=params["length"],
        )
    if code is ErrorCode.CODE_UNKNOWN_KIND:
        return _("This is not a valid invoice code. Check it against the invoice.")
    if code is ErrorCode.CODE_UNSUPPORTED:
        return _("Freight transport invoices were retired in 2016 and cannot be verified.")
    if code is ErrorCode.CODE_REQUIRED:
        return _(
            "Enter the invoice code. Only fully digital invoices with a 20-digit number "
            "have none."
        )
    if code is ErrorCode.NUMBER_NOT_DIGITS:
        return _("The invoice number is made of digits only.")
    if code is ErrorCode.NUMBER_LENGTH:
        return _(
            "The invoice number has 8 digits, or 20 on a fully digital invoice; you entered "
            "%(length)d.",
            length=params["length"],
        )
    if code is ErrorCode.NUMBER_LENGTH_FOR_DIGITAL:
        return _("A fully digital invoice has a 20-digit number.")
    if code is ErrorCode.DATE_INVALID:
        return _("Enter the issue date as a real date, for example 2024-10-25.")
    if code is ErrorCode.AMOUNT_INVALID:
        return _("Enter the amount in yuan, for example 1130.00.")
    if code is ErrorCode.AMOUNT_TOO_LARGE:
        return _("No invoice is for this much. Check the digits of the amount.")
    if code is ErrorCode.AMOUNT_REQUIRED:
        return str(AMOUNT_REQUIRED[params["extra_field"]])
    if code is ErrorCode.CHECK_CODE_INVALID:
        return _("Enter the last 6 digits of the check code (or all 20).")
    if code is ErrorCode.CHECK_CODE_REQUIRED:
        return _(
            # Shown beside the field and in a batch file's row: no "here".
            "This invoice is verified with the last 6 digits of its check code, not an "
            "amount. Enter those 6 digits."
        )
    if code is ErrorCode.TOO_OLD:
        return ngettext(
            "Invoices issued more than %(num)d year ago can no longer be verified.",
            "Invoices issued more than %(num)d years ago can no longer be verified.",
            params["years"],
        )
    if code is ErrorCode.FUTURE_DATE:
        return _("The issue date is in the future. Check the date on the invoice.")
    return _("This field is not valid.")  # pragma: no cover - every code is worded above


def field_errors(errors) -> dict[str, str]:
    return {name: field_error_message(error, name) for name, error in errors.items()}


NOT_AN_INVOICE_QR = _l(
    "This is not an invoice QR code. Scan the square code at the top left of the invoice."
)
SCAN_REQUIRED = _l("Scan the invoice's QR code, or paste its text here.")
PHOTO_REQUIRED = _l("Choose a photo of the invoice, or its PDF or OFD file.")
NO_INVOICE_CODE = _l(
    "No invoice QR code was found. Take the photo again with the whole code sharp and in the "
    "frame, or type the details below."
)
OTHER_CODES_ONLY = _l(
    "The QR code in this photo is not an invoice's: it may be a shop's or a payment code. "
    "Photograph the QR code printed on the invoice, at its top left, or type the details "
    "below."
)
SEVERAL_INVOICES = _l(
    "This image shows the QR codes of more than one invoice. Photograph one invoice at a time."
)

_CORRUPT = _l("This file is damaged or incomplete. Send it again, or take a new photo.")
_UNSAFE = _l("This file cannot be opened safely. Ask the seller for a new copy.")
DECODE_ERRORS = {
    "empty_file": _l("The file you chose is empty. Choose the photo or file again."),
    "unsupported_type": _l(
        "This kind of file cannot be read. Send a JPEG, PNG, WebP or BMP photo, or a PDF or "
        "OFD e-invoice."
    ),
    "corrupt_image": _CORRUPT,
    "corrupt_pdf": _CORRUPT,
    "corrupt_ofd": _CORRUPT,
    "too_many_pixels": _l(
        "This image has too many pixels to read. Send a smaller photo (at most 40 megapixels)."
    ),
    "no_code": NO_INVOICE_CODE,
    "no_pages": _l("This PDF has no pages."),
    "protected_pdf": _l("This PDF is password-protected. Send a copy without a password."),
    "unsafe_archive": _UNSAFE,
    "unsafe_xml": _UNSAFE,
}


def decode_error_message(reason: str) -> str:
    return str(DECODE_ERRORS.get(reason, _CORRUPT))


def import_reason(reason: Reason) -> str:
    """Why a line of a registry import was refused, in the reader's language.

    The domain marks its English templates for the catalogs (``yanpiao.registry.N_``); field
    names and the file's own values stay as they were written.
    """
    params = {key: import_reason(value) if isinstance(value, Reason) else value
              for key, value in reason.params.items()}
    return _(reason.template, **params)
