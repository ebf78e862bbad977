"""The feedback forms, and the words for the feedback domain's names (categories, statuses)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from yanpiao.accounts import normalise_phone
from yanpiao.feedback import MESSAGE_MAX, RATINGS, Category, Priority, Submission, TicketStatus
from yanpiao.mail import Problem
from yanpiao.normalize import fold
from yanpiao.staff_accounts import is_email

from .validators import MaxLength

CATEGORY_NAMES = {
    Category.WRONG_RESULT: _l("Wrong result"),
    Category.SCANNING: _l("Scanning problem"),
    Category.ACCESSIBILITY: _l("Accessibility"),
    Category.SUGGESTION: _l("Suggestion"),
    Category.OTHER: _l("Something else"),
}

CATEGORY_HINTS = {
    Category.WRONG_RESULT: _l("A verification result seems wrong."),
    Category.SCANNING: _l("A QR code, photo or file could not be read."),
    Category.ACCESSIBILITY: _l("Something is hard to see, hear, reach or use."),
    Category.SUGGESTION: _l("An idea to make Yanpiao better."),
    Category.OTHER: _l("Anything else."),
}

STATUS_NAMES = {
    TicketStatus.NEW: lazy_pgettext("ticket status", "Received"),
    TicketStatus.IN_PROGRESS: _l("In progress"),
    TicketStatus.WAITING: _l("Waiting for the reporter"),
    TicketStatus.RESOLVED: _l("Resolved"),
    TicketStatus.CLOSED: _l("Closed"),
}

PRIORITY_NAMES = {
    Priority.NORMAL: lazy_pgettext("priority", "Normal"),
    Priority.URGENT: _l("Urgent"),
}

# Why a mail to a reporter has not gone (yet), as staff read it on the ticket.
MAIL_PROBLEMS = {
    Problem.UNREACHABLE: _l("the mail server could not be reached"),
    Problem.LOGIN: _l("the mail server did not accept this site's login"),
    Problem.DEFERRED: _l("the mail server asked to try again later"),
    Problem.REFUSED: _l("the mail server refused the address or the mail"),
}
RATING_NAMES = {
    1: _l("1 – very poor"),
    2: _l("2 – poor"),
    3: _l("3 – acceptable"),
    4: _l("4 – good"),
    5: _l("5 – very good"),
}

def options(pairs) -> list[SelectChoice]:
    """Choices of a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def strip(text: str | None) -> str | None:
    return text.strip() if text else text


_REFERENCE = re.compile(r"^[A-Z0-9-]{1,40}$")


def clean_reference(text: str | None) -> str:
    """A receipt id or invoice number, upper-cased, spaces removed; "" when it is neither."""
    cleaned = re.sub(r"\s+", "", fold(text or "")).upper()
    return cleaned if _REFERENCE.match(cleaned) else ""


def contact_is_valid(text: str) -> bool:
    if "@" in text:
        return is_email(text)
    phone = normalise_phone(text)
    return len(phone) == 11 and phone.startswith("1")


class ErrorsInOrder:
    def field_errors(self) -> list[tuple[str, str]]:
        """(field id, message) in form order, for the error summary."""
        return [(field.id, message) for field in self if field.errors
                for message in field.errors if field.name != "csrf_token"]


class FeedbackForm(ErrorsInOrder, FlaskForm):
    category = RadioField(
        _l("What is it about?"),
        choices=options((c.value, CATEGORY_NAMES[c]) for c in Category),
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Choose what your report is about.")),
            AnyOf([c.value for c in Category], message=_l("Choose what your report is about.")),
        ],
    )
    message = TextAreaField(_l("Your message"), [
        DataRequired(message=_l("Tell us what happened or what you suggest.")),
        Length(max=MESSAGE_MAX,
               message=_l("Keep the message under %(max)d characters, please.")),
    ], filters=[strip])
    invoice_reference = StringField(_l("Receipt or invoice number (optional)"), [
        Optional(), MaxLength(60),
    ])
    contact = StringField(_l("Email address or mobile number (optional)"), [
        Optional(), Length(max=254, message=_l("This contact is too long.")),
    ])
    consent = BooleanField(_l("I agree that Yanpiao staff may use this contact to reply to me "
                              "about this report."))
    anonymous = BooleanField(_l("Send anonymously"))
    # Left empty by people; filled in by form-filling robots.
    website = StringField(_l("Leave this field empty"))
    submission = HiddenField()

    def validate_invoice_reference(self, field):
        if field.data and not clean_reference(field.data):
            raise ValidationError(_l(
                "Enter the receipt number or the invoice number with letters and digits only."
            ))

    def validate_contact(self, field):
        text = (field.data or "").strip()
        if not text:
            return
        if self.anonymous.data:
            raise ValidationError(_l(
                "You chose to send anonymously: remove the contact, or untick “Send "
                "anonymously”."
            ))
        if not contact_is_valid(text):
            raise ValidationError(_l(
                "Enter an email address like name@example.com or an 11-digit mobile number."
            ))

    def validate_consent(self, field):
        if (self.contact.data or "").strip() and not self.anonymous.data and not field.data:
            raise ValidationError(_l(
                "Tick the box to let us reply to this contact, or leave the contact empty."
            ))

    def submission_value(self, *, user_id: int | None, locale: str) -> Submission:
        return Submission(
            category=Category(self.category.data),
            message=self.message.data,
            contact=(self.contact.data or "").strip(),
            invoice_reference=clean_reference(self.invoice_reference.data),
            anonymous=bool(self.anonymous.data),
            user_id=user_id,
            locale=locale,
        )


class FollowUpForm(ErrorsInOrder, FlaskForm):
    body = TextAreaField(_l("Add a message"), [
        DataRequired(message=_l("Write your message first.")),
        Length(max=MESSAGE_MAX,
               message=_l("Keep the message under %(max)d characters, please.")),
    ], filters=[strip])


class RatingForm(ErrorsInOrder, FlaskForm):
    rating = RadioField(
        _l("How satisfied are you with our answer?"),
        choices=options((str(r), RATING_NAMES[r]) for r in RATINGS),
        validate_choice=False,
        validators=[
            InputRequired(message=_l("Choose a rating from 1 to 5.")),
            AnyOf([str(r) for r in RATINGS], message=_l("Choose a rating from 1 to 5.")),
        ],
    )
