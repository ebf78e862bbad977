"""history: verification records belong to accounts

Revision ID: 0003_history
Revises: 0002_accounts
Create Date: 2026-11-22 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_history"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite adds a foreign key only by copying the table.
    with op.batch_alter_table("verification_records") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_verification_records_user_id_users", "users", ["user_id"], ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_verification_records_user_id", ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("verification_records") as batch:
        batch.drop_index("ix_verification_records_user_id")
        batch.drop_constraint("fk_verification_records_user_id_users", type_="foreignkey")
        batch.drop_column("user_id")
