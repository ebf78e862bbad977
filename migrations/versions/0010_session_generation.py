"""accounts: a session generation, so that deactivation ends sessions for good

A deactivated account's sessions were refused while it stayed deactivated, but came back to
life when it was reactivated: the session stamp depended on the password alone. Deactivating
now moves the account to a new generation, which old sessions do not carry.

Revision ID: 0010_session_generation
Revises: 0009_feedback_numbering
Create Date: 2026-11-22 01:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0010_session_generation"
down_revision = "0009_feedback_numbering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
