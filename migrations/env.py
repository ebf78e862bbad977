"""Alembic environment: the models' metadata, the URL from the app's configuration."""

from __future__ import annotations

from alembic import context

import yanpiao.accounts  # noqa: F401  (each import registers its tables on the metadata)
import yanpiao.batch  # noqa: F401
import yanpiao.models  # noqa: F401
import yanpiao.tokens  # noqa: F401
import yanpiao.audit  # noqa: F401
import yanpiao.faq  # noqa: F401
import yanpiao.feedback  # noqa: F401
import yanpiao.mail  # noqa: F401
import yanpiao.upkeep  # noqa: F401
import yanpiao.kiosk  # noqa: F401
from yanpiao.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it to a new one and dropping the old; with its
            # foreign keys enforced, that drop would delete or empty every row referring to
            # it. SQLite's documented way: enforcement off (only possible outside a
            # transaction) and a check when done.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite alters tables by copying them; batch mode does that for us.
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.commit()
            if broken:
                raise RuntimeError(f"rows refer to rows that do not exist: {broken[:10]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
