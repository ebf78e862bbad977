"""The demo invoices a newcomer can try, with their QR payloads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Invoice
from .registry import InvoiceSnapshot, snapshot
from .types import ExtraField, Status
from .verification import expected_extra_value


@dataclass(frozen=True)
class Sample:
    invoice: InvoiceSnapshot
    extra_field: ExtraField
    extra_value: str
    qr_payload: str


def qr_payload_for(invoice: InvoiceSnapshot) -> str:
    """The QR text printed on such an invoice (DESIGN 1.1)."""
    amount = invoice.total if invoice.invoice_type.is_digital else invoice.amount
    fields = [
        "01",
        invoice.invoice_type.code,
        invoice.invoice_code,
        invoice.invoice_number,
        str(amount),
        invoice.issue_date.strftime("%Y%m%d"),
        "" if invoice.invoice_type.is_digital else invoice.check_code,
    ]
    # The last field is opaque to verifiers; a stable stand-in keeps demo codes reproducible.
    fields.append(hashlib.sha256(",".join(fields).encode()).hexdigest()[:4].upper())
    return ",".join(fields)


def demo_samples(session: Session, limit: int = 24) -> list[Sample]:
    """One normal demo invoice of each type, then one of each other status."""
    invoices = session.scalars(
        select(Invoice).where(Invoice.is_demo.is_(True)).order_by(Invoice.id).limit(500)
    ).all()
    chosen: list[Invoice] = []
    seen_types, seen_statuses = set(), set()
    for invoice in invoices:
        if invoice.status == Status.NORMAL and invoice.type_code not in seen_types:
            seen_types.add(invoice.type_code)
            chosen.append(invoice)
    for invoice in invoices:
        if invoice.status != Status.NORMAL and invoice.status not in seen_statuses:
            seen_statuses.add(invoice.status)
            chosen.append(invoice)
    samples = []
    for invoice in chosen[:limit]:
        snap = snapshot(invoice)
        expected = expected_extra_value(invoice)
        samples.append(
            Sample(snap, snap.invoice_type.extra_field, str(expected), qr_payload_for(snap))
        )
    return samples
