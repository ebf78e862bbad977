"""kiosk: visits at a terminal and the codes its camera read

Revision ID: 0007_kiosk
Revises: 0002_accounts
Create Date: 2026-11-24 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import yanpiao.db


revision = "0007_kiosk"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_visits",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("last_active_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("result_id", sa.String(length=24), nullable=True),
        sa.Column("notice", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kiosk_visits")),
    )
    op.create_index("ix_kiosk_visits_kiosk_id", "kiosk_visits", ["kiosk_id"])
    op.create_table(
        "kiosk_scans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=1024), nullable=False),
        sa.Column("seen_at", yanpiao.db.UTCDateTime(), nullable=False),
        sa.Column("visit_token", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_scans")),
    )
    op.create_index("ix_kiosk_scans_kiosk_id_seen_at", "kiosk_scans", ["kiosk_id", "seen_at"])


def downgrade() -> None:
    op.drop_index("ix_kiosk_scans_kiosk_id_seen_at", table_name="kiosk_scans")
    op.drop_table("kiosk_scans")
    op.drop_index("ix_kiosk_visits_kiosk_id", table_name="kiosk_visits")
    op.drop_table("kiosk_visits")
