"""The invoice registry and the record of verifications."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import accounts  # noqa: F401  (the users table that user_id refers to)
from .db import Base, Money, UTCDateTime, utcnow
from .types import EntryPath, InvoiceType, Outcome, Status


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("invoice_code", "invoice_number"),
        Index("ix_invoices_invoice_number", "invoice_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_code: Mapped[str] = mapped_column(String(2))
    invoice_code: Mapped[str] = mapped_column(String(12), default="")
    invoice_number: Mapped[str] = mapped_column(String(20))
    issue_date: Mapped[date] = mapped_column(Date)
    check_code: Mapped[str] = mapped_column(String(20), default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default=Status.NORMAL.value)

    seller_name: Mapped[str] = mapped_column(String(200), default="")
    seller_tax_id: Mapped[str] = mapped_column(String(20), default="")
    seller_address_phone: Mapped[str] = mapped_column(String(200), default="")
    seller_bank_account: Mapped[str] = mapped_column(String(200), default="")
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_tax_id: Mapped[str] = mapped_column(String(20), default="")
    buyer_address_phone: Mapped[str] = mapped_column(String(200), default="")
    buyer_bank_account: Mapped[str] = mapped_column(String(200), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    drawer: Mapped[str] = mapped_column(String(50), default="")
    # Seeded demo data, listed on /samples so newcomers can try every outcome.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    # Successful checks so far (查验次数) and when the last one was.
    verification_count: Mapped[int] = mapped_column(Integer, default=0)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice",
        order_by="InvoiceItem.position",
        cascade="all, delete-orphan",
        # Loaded only when a match shows them: most lookups (mismatch, limit) never need items.
        lazy="select",
    )

    @property
    def invoice_type(self) -> InvoiceType:
        return InvoiceType(self.type_code)

    @property
    def status_enum(self) -> Status:
        return Status(self.status)


class InvoiceItem(Base):
    __tablename__ = "invoice_items"
    __table_args__ = (Index("ix_invoice_items_invoice_id", "invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    # Quantities and unit prices keep the precision they were issued with ("3", "0.33333333").
    quantity: Mapped[str] = mapped_column(String(32), default="")
    unit_price: Mapped[str] = mapped_column(String(32), default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[str] = mapped_column(String(10), default="")
    tax: Mapped[Decimal] = mapped_column(Money)

    invoice: Mapped[Invoice] = relationship(back_populates="items")


class DailyCounter(Base):
    """Attempts that found an invoice, per invoice and day (the daily limit counts these)."""

    __tablename__ = "daily_counters"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class VerificationRecord(Base):
    """One verification: what was asked, through which path, and what came of it.

    Its id is the receipt id. It stores the fields the visitor gave and never more of the
    invoice than the outcome entitles them to see.
    """

    __tablename__ = "verification_records"
    __table_args__ = (
        Index("ix_verification_records_created_at", "created_at"),
        Index("ix_verification_records_invoice_id", "invoice_id"),
        Index("ix_verification_records_owner_key", "owner_key"),
        Index("ix_verification_records_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entry_path: Mapped[str] = mapped_column(String(16), default=EntryPath.TYPED.value)
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.NOT_FOUND.value)
    status: Mapped[str | None] = mapped_column(String(16), default=None)
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), default=None
    )
    type_code: Mapped[str] = mapped_column(String(2), default="")
    invoice_code: Mapped[str] = mapped_column(String(12), default="")
    invoice_number: Mapped[str] = mapped_column(String(20), default="")
    issue_date: Mapped[date | None] = mapped_column(Date, default=None)
    amount: Mapped[Decimal | None] = mapped_column(Money, default=None)
    check_code: Mapped[str] = mapped_column(String(6), default="")
    # Which supplied fields disagreed, for staff statistics only; never shown to the visitor.
    mismatch_fields: Mapped[str] = mapped_column(String(64), default="")
    verification_count: Mapped[int | None] = mapped_column(Integer, default=None)
    previous_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Whose history this belongs to: an anonymous session key, a kiosk session, later a user.
    owner_key: Mapped[str | None] = mapped_column(String(64), default=None)
    kiosk_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # A signed-in visitor's history: it goes when the account goes.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
