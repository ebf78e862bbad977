"""Words of batch verification: why a file or a row could not be checked, filter names."""

from __future__ import annotations

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from yanpiao.batch import BatchRow, RowFilter, RowProblem
from yanpiao.batch_files import FileProblem
from yanpiao.requests import ErrorCode, FieldError
from yanpiao.types import ExtraField, Outcome, Status

from . import messages

FILE_PROBLEMS = {
    FileProblem.EMPTY: _l("The file is empty."),
    FileProblem.KIND: _l("Upload a CSV or XLSX list of invoices, or a ZIP of invoice images, "
                         "PDFs or OFDs."),
    FileProblem.UNREADABLE: _l("The file could not be read. Save it again as CSV (UTF-8) or "
                               "XLSX and upload it again."),
    FileProblem.HEADERS: _l("The first row must name the columns, at least 发票号码 "
                            "(invoice_number) and 开票日期 (issue_date). Start from the template."),
    FileProblem.NO_ROWS: _l("The file has no invoices to check."),
}
JOB_FAILED = _l("The job stopped because of an error on our side. Upload the file again.")

ROW_PROBLEMS = {
    RowProblem.UNREADABLE_FILE: _l("This file could not be read as an image, PDF or OFD."),
    RowProblem.NO_INVOICE_QR: _l("No invoice QR code was found in this file."),
    RowProblem.UNCLOSED_QUOTE: _l(
        "A double quote in this row is not closed, so the lines after it were read into this "
        "row. Remove the quote or close it, and upload the file again."),
    RowProblem.DIGITS_LOST: _l(
        "The spreadsheet stored this invoice code or number as a number, which keeps only 15 "
        "digits, and changed its last digits. Format the column as text, type the number "
        "again and upload the file again."),
}

FILTER_LABELS = {
    RowFilter.ALL: _l("All rows"),
    RowFilter.VALID: _l("Valid invoices"),
    RowFilter.WARNINGS: _l("Genuine but not valid (voided, red-reversed, …)"),
    RowFilter.PROBLEMS: _l("Everything that is not a valid invoice"),
    RowFilter.DUPLICATES: _l("Duplicates within the file"),
}


def file_problem(problem: str, limit: int = 0) -> str:
    if problem == FileProblem.TOO_MANY_ROWS:
        return _("The file has more than %(limit)s rows. Split it into smaller files.",
                 limit=format_number(limit))
    try:
        return str(FILE_PROBLEMS[FileProblem(problem)])
    except (ValueError, KeyError):
        return str(JOB_FAILED)


# "Please correct the form", the verify page's name for it, means nothing on a file's row.
NOT_CHECKED = _l("Not checked")


def outcome_name(outcome: Outcome) -> str:
    """A row's result in words."""
    return str(NOT_CHECKED if outcome is Outcome.INVALID else messages.OUTCOME_NAMES[outcome])


def filter_label(value: str) -> str:
    if value in {f.value for f in RowFilter}:
        return str(FILTER_LABELS[RowFilter(value)])
    if value in {o.value for o in Outcome}:
        return _("Result: %(outcome)s", outcome=outcome_name(Outcome(value)))
    return _("Status: %(status)s", status=messages.STATUS_NAMES[Status(value)])


def _params(raw: dict) -> dict:
    params: dict = {}
    for name, value in raw.items():
        if name == "extra_field":
            params[name] = ExtraField(value)
        elif isinstance(value, str) and value.isdecimal():
            params[name] = int(value)
        else:
            params[name] = value
    return params


def row_reasons(row: BatchRow) -> list[str]:
    """Why a row was refused, one sentence per field, in the visitor's language."""
    reasons = []
    for field, code, params in row.reasons():
        if code in {p.value for p in RowProblem}:
            reasons.append(str(ROW_PROBLEMS[RowProblem(code)]))
            continue
        try:
            error = FieldError(ErrorCode(code), _params(params))
        except (ValueError, KeyError):
            continue
        label = messages.FIELD_LABELS.get(field)
        text = messages.field_error_message(error)
        reasons.append(_("%(field)s: %(message)s", field=label, message=text) if label else text)
    return reasons
