"""batch jobs, their rows, and API tokens

Revision ID: 0006_batch
Revises: 0002_accounts
Create Date: 2026-11-21 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import yanpiao.db


revision = "0006_batch"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("runner", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=False),
        sa.Column("upload", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_batch_jobs_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_batch_jobs_user_id_created_at", ["user_id", "created_at"],
                              unique=False)

    op.create_table(
        "batch_rows",
        sa.Column("job_id", sa.String(length=24), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("invoice_code", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("issue_date", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.String(length=64), nullable=False),
        sa.Column("check_code", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("verification_count", sa.Integer(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("invoice_key", sa.String(length=40), nullable=True),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("receipt_id", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["batch_jobs.id"],
                                name=op.f("fk_batch_rows_job_id_batch_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "row_number", name=op.f("pk_batch_rows")),
    )
    with op.batch_alter_table("batch_rows", schema=None) as batch_op:
        batch_op.create_index("ix_batch_rows_job_id_outcome", ["job_id", "outcome"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", yanpiao.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_api_tokens_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("batch_rows")
    op.drop_table("batch_jobs")
