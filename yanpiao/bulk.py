"""Many rows at once: one statement for many rows, and lists cut into chunks.

A Core ``executemany`` builds and processes a parameter dictionary per row, which costs more
than the database work for the tens of thousands of rows of a batch. Here the statement is
compiled once, each bind's type processor is looked up once, and the driver gets plain tuples
(or dicts, for drivers with named parameters) in one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


# Ids per ``IN (…)`` list of a bulk delete: well below any database's parameter limit.
IN_LIST = 500


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def executemany(session: Session, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per row; rows all have the same keys (the statement's binds).

    Binds not in the rows keep the value given when the statement was built.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    # Python-side column defaults (e.g. updated_at's onupdate): one value for all rows.
    defaults = {}
    for column in compiled.insert_prefetch:
        defaults[column.key] = _default_value(column.default)
    for column in compiled.update_prefetch:
        defaults[column.key] = _default_value(column.onupdate)
    plan = []
    for name in names:
        bind = compiled.binds[name]
        key = bind.key if bind.key in rows[0] else name
        processor = bind.type._cached_bind_processor(dialect)
        if key in rows[0]:
            constant = None
        elif key in defaults:
            constant = defaults[key]
        else:
            constant = bind.effective_value
        if constant is not None and processor is not None:
            constant = processor(constant)
        plan.append((key, processor, key in rows[0], constant))
    params: list
    if compiled.positional:
        params = [
            tuple((processor(row[key]) if processor else row[key]) if given else constant
                  for key, processor, given, constant in plan)
            for row in rows
        ]
    else:
        params = [
            {name: (processor(row[key]) if processor else row[key]) if given else constant
             for name, (key, processor, given, constant) in zip(names, plan, strict=True)}
            for row in rows
        ]
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(compiled.string, params)
    finally:
        cursor.close()


def _default_value(default):
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps plain functions to take a context
    return default.arg if default.is_scalar else None
