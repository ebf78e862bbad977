"""Batch results and the upload template as CSV and XLSX downloads."""

from __future__ import annotations

import csv
import io
import tempfile

from flask import Response, send_file, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _

from yanpiao.batch import BatchJob, iter_rows
from yanpiao.batch_files import TEMPLATE_HEADERS
from yanpiao.spreadsheets import csv_cell, xlsx_cell
from yanpiao.types import Outcome, Status

from . import messages
from .batch_messages import outcome_name, row_reasons
from .ext import db
from .receipts import receipt_links


def _headers() -> list[str]:
    return [
        _("Row"), _("File"), str(messages.FIELD_LABELS["invoice_code"]),
        str(messages.FIELD_LABELS["invoice_number"]), str(messages.FIELD_LABELS["issue_date"]),
        str(messages.FIELD_LABELS["amount"]), str(messages.FIELD_LABELS["check_code"]),
        _("Result"), _("Status"), _("Valid"), _("Check number"), _("Duplicate of row"),
        _("Reason"), _("Receipt"),
    ]


def _cells(row, receipt_link) -> list:
    outcome = Outcome(row.outcome)
    status = Status(row.status) if row.status else None
    return [
        row.row_number, row.source, row.invoice_code, row.invoice_number, row.issue_date,
        row.amount, row.check_code, outcome_name(outcome),
        str(messages.STATUS_NAMES[status]) if status else "",
        _("yes") if row.is_valid else _("no"),
        row.verification_count if row.verification_count is not None else "",
        row.duplicate_of if row.duplicate_of is not None else "",
        "; ".join(row_reasons(row)),
        # The receipt's share link: a bare receipt number opens nothing.
        receipt_link(row.receipt_id) if row.receipt_id else "",
    ]


def _filename(job: BatchJob, suffix: str) -> str:
    return f"yanpiao-batch-{job.id}.{suffix}"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def csv_response(job: BatchJob, show: str) -> Response:
    def generate():
        out = io.StringIO()
        writer = csv.writer(out)
        # A byte order mark: Excel in China opens UTF-8 CSV as GBK without it.
        out.write("\ufeff")
        writer.writerow(_headers())
        link = receipt_links()
        for number, row in enumerate(iter_rows(db.session, job.id, show), start=1):
            writer.writerow([csv_cell(value) for value in _cells(row, link)])
            if number % 2000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv",
                        headers=_attachment(_filename(job, "csv")))
    return response


def xlsx_response(job: BatchJob, show: str) -> Response:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Results"))
    sheet.append(_headers())
    link = receipt_links()
    for row in iter_rows(db.session, job.id, show):
        sheet.append([xlsx_cell(sheet, value) for value in _cells(row, link)])
    # Sent from a temporary file, never held whole in memory; the file goes when it is sent.
    stream = tempfile.TemporaryFile()
    book.save(stream)
    stream.seek(0)
    return send_file(
        stream,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_filename(job, "xlsx"),
    )


def template_headers() -> tuple[str, ...]:
    return TEMPLATE_HEADERS["zh" if str(get_locale()).startswith("zh") else "en"]


def template_response(fmt: str) -> Response:
    headers = template_headers()
    if fmt == "csv":
        body = "\ufeff" + ",".join(headers) + "\r\n"
        return Response(body, mimetype="text/csv",
                        headers=_attachment("yanpiao-batch-template.csv"))
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Invoices")
    sheet.append(list(headers))
    # Text cells keep leading zeros and all 20 digits of check codes, which numbers would lose.
    for column in "ABCDE":
        sheet.column_dimensions[column].width = 24
        for cell in sheet[f"{column}2:{column}1000"]:
            cell[0].number_format = "@"
    stream = io.BytesIO()
    book.save(stream)
    return Response(
        stream.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment("yanpiao-batch-template.xlsx"),
    )
