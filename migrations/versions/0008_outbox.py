"""outbox: mail queued by requests and sent outside them

Revision ID: 0008_outbox
Revises: 0004_feedback
Create Date: 2026-11-21 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import yanpiao.db


revision = "0008_outbox"
down_revision = "0004_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=16), nullable=False),
        sa.Column("finished_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["feedback_tickets.id"],
                                name=op.f("fk_outgoing_mail_ticket_id_feedback_tickets"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["feedback_messages.id"],
                                name=op.f("fk_outgoing_mail_message_id_feedback_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    op.create_index("ix_outgoing_mail_state_next_attempt_at", "outgoing_mail",
                    ["state", "next_attempt_at"])
    op.create_index("ix_outgoing_mail_ticket_id", "outgoing_mail", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_mail_ticket_id", table_name="outgoing_mail")
    op.drop_index("ix_outgoing_mail_state_next_attempt_at", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
