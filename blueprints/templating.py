"""Template helpers: domain names in words, money and rates formatted per locale."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Flask
from flask_babel import (format_currency, format_date, format_datetime, format_number,
                         format_percent, format_time)
from markupsafe import Markup

from . import messages


def money(amount) -> Markup:
    """CNY formatted per locale, kept left-to-right inside right-to-left text."""
    if amount is None:
        return Markup("")
    return Markup('<bdi dir="ltr">%s</bdi>') % format_currency(amount, "CNY")


def rate(value: str) -> str:
    """A tax rate like ``0.13`` as a percentage per locale; words (免税) pass through."""
    try:
        return format_percent(Decimal(value))
    except (InvalidOperation, TypeError, ValueError):
        return value


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        money=money,
        rate=rate,
        format_date=format_date,
        format_datetime=format_datetime,
        format_time=format_time,
        format_number=format_number,
        type_name=lambda t: messages.TYPE_NAMES[t],
        status_name=lambda s: messages.STATUS_NAMES[s],
        genuine_but=lambda s: messages.GENUINE_BUT[s],
        status_explanation=lambda s: messages.STATUS_EXPLANATIONS.get(s, ""),
        outcome_name=lambda o: messages.OUTCOME_NAMES[o],
        entry_path_name=lambda p: messages.ENTRY_PATH_NAMES[p],
        extra_label=lambda f: messages.EXTRA_FIELD_LABELS[f],
        extra_hint=lambda f: messages.EXTRA_FIELD_HINTS[f],
        region_name=lambda r: messages.REGION_NAMES.get(r, r),
        field_errors=messages.field_errors,
    )
