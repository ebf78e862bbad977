"""feedback tickets, their conversation, the audit trail and FAQ votes

Revision ID: 0004_feedback
Revises: 0002_accounts
Create Date: 2026-11-21 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import yanpiao.db


revision = "0004_feedback"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("submission_key", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=False),
        sa.Column("invoice_reference", sa.String(length=40), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("awaiting_reply_since", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("first_reply_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_feedback_tickets_user_id_users")),
        sa.ForeignKeyConstraint(["assigned_to_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_feedback_tickets_assigned_to_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_feedback_tickets_number")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feedback_tickets_token_hash")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_feedback_tickets_submission_key")),
        sa.UniqueConstraint("year", "sequence", name=op.f("uq_feedback_tickets_year_sequence")),
    )
    op.create_index("ix_feedback_tickets_status", "feedback_tickets", ["status"])
    op.create_index("ix_feedback_tickets_created_at", "feedback_tickets", ["created_at"])

    op.create_table(
        "feedback_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["feedback_tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_feedback_messages_ticket_id_feedback_tickets")),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_feedback_messages_staff_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_messages")),
    )
    op.create_index(op.f("ix_feedback_messages_ticket_id"), "feedback_messages", ["ticket_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=False),
        sa.Column("new_value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_audit_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_type", "subject_id"])

    op.create_table(
        "faq_votes",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("not_helpful", sa.Integer(), nullable=False),
        sa.Column("updated_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_faq_votes")),
    )


def downgrade() -> None:
    op.drop_table("faq_votes")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_feedback_messages_ticket_id"), table_name="feedback_messages")
    op.drop_table("feedback_messages")
    op.drop_index("ix_feedback_tickets_created_at", table_name="feedback_tickets")
    op.drop_index("ix_feedback_tickets_status", table_name="feedback_tickets")
    op.drop_table("feedback_tickets")
