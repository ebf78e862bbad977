"""Form rules shared by the site's forms, worded by the site in every language."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, lazy_ngettext
from flask_babel import gettext as _
from wtforms.validators import Length

# The days a date filter accepts: a year typed as 0001 or 9999 is a slip, and counting days
# from it overflows Python's dates.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


class MaxLength(Length):
    """``Length(max=…)`` with the site's own message.

    WTForms' own message comes from its catalogs, and its Arabic one lacks four of the six
    plural forms: an Arabic visitor who typed 41 characters read "Field cannot be longer
    than 40 characters." in English.
    """

    def __init__(self, maximum: int) -> None:
        super().__init__(max=maximum, message=lazy_ngettext(
            "Too long: use at most %(num)d character.",
            "Too long: use at most %(num)d characters.", maximum))


def read_day(field) -> date | None:
    """The day a text field of a validated form holds (None when empty), or None with the
    field's error when it is not a date written year-month-day or lies outside the years a
    filter can mean."""
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        field.errors.append(_("Enter the date as year-month-day, for example 2024-10-25."))
        return None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        field.errors.append(_("Choose a date from %(first)s to %(last)s.",
                              first=format_date(EARLIEST_DAY, "long"),
                              last=format_date(LATEST_DAY, "long")))
        return None
    return day
