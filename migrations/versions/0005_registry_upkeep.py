"""registry upkeep: import jobs and the audit trail of invoice statuses

Revision ID: 0005_registry_upkeep
Revises: 0002_accounts
Create Date: 2026-11-21 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import yanpiao.db


revision = "0005_registry_upkeep"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total_lines", sa.Integer(), nullable=False),
        sa.Column("lines_checked", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=False),
        sa.Column("started_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_import_jobs_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_table(
        "invoice_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(length=254), nullable=False),
        sa.Column("import_job_id", sa.Integer(), nullable=True),
        sa.Column("import_line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"],
            name=op.f("fk_invoice_status_changes_invoice_id_invoices"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"],
            name=op.f("fk_invoice_status_changes_changed_by_id_users"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_job_id"], ["import_jobs.id"],
            name=op.f("fk_invoice_status_changes_import_job_id_import_jobs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_status_changes")),
    )
    op.create_index(
        "ix_invoice_status_changes_invoice_id", "invoice_status_changes", ["invoice_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_invoice_status_changes_invoice_id", table_name="invoice_status_changes")
    op.drop_table("invoice_status_changes")
    op.drop_table("import_jobs")
