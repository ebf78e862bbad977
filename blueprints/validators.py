"""Form rules shared by the site's forms, worded by the site in every language."""

from __future__ import annotations

from flask_babel import lazy_ngettext
from wtforms.validators import Length


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
