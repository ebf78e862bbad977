"""ticket numbers and ids never given twice

A deleted ticket's number went to the next report when it was the year's newest (the next
number was the highest one left plus one). Each year's last number is now kept on its own.
SQLite also gave the id of a deleted newest ticket or account to the next one, and with it the
audit events kept under that id; AUTOINCREMENT stops that. PostgreSQL's sequences never did.

Revision ID: 0009_feedback_numbering
Revises: 0008_outbox
Create Date: 2026-11-21 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0009_feedback_numbering"
down_revision = "0008_outbox"
branch_labels = None
depends_on = None

# Tables whose ids the audit trail refers to without a foreign key.
AUDITED = ("users", "feedback_tickets")


def _recreate_on_sqlite(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in AUDITED:
        # A copy of the table with the same columns, keys and indexes (env.py turns SQLite's
        # foreign key enforcement off, so dropping the old one deletes nothing that refers to it).
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    op.create_table(
        "feedback_numbering",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_feedback_numbering")),
    )
    op.execute("INSERT INTO feedback_numbering (year, last_sequence) "
               "SELECT year, MAX(sequence) FROM feedback_tickets GROUP BY year")
    _recreate_on_sqlite(True)


def downgrade() -> None:
    _recreate_on_sqlite(False)
    op.drop_table("feedback_numbering")
