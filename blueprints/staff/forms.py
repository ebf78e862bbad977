"""Staff forms: queue filters, ticket actions, staff accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from yanpiao.accounts import Role
from yanpiao.feedback import MESSAGE_MAX, OPEN, Category, Priority, TicketStatus

from ..feedback_forms import (
    CATEGORY_NAMES,
    PRIORITY_NAMES,
    STATUS_NAMES,
    ErrorsInOrder,
    options,
    strip,
)

ROLE_NAMES = {
    Role.USER: _l("No staff access"),
    Role.STAFF: lazy_pgettext("role", "Staff"),
    Role.ADMIN: _l("Administrator"),
}


class QueueFilterForm(FlaskForm):
    """The queue's filters: a GET form, so every filtered view has an address."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=options([
        (OPEN, _l("Not closed")), ("all", _l("Any status")),
        *((s.value, STATUS_NAMES[s]) for s in TicketStatus),
    ]), default=OPEN)
    category = SelectField(_l("Topic"), choices=options([
        ("", _l("Any category")), *((c.value, CATEGORY_NAMES[c]) for c in Category),
    ]), default="")
    priority = SelectField(_l("Priority"), choices=options([
        ("", _l("Any priority")), *((p.value, PRIORITY_NAMES[p]) for p in Priority),
    ]), default="")
    assignee = SelectField(_l("Assigned to"), default="")
    overdue = BooleanField(_l("Overdue only"))


class ReplyForm(ErrorsInOrder, FlaskForm):
    body = TextAreaField(_l("Reply to the reporter"), [
        DataRequired(message=_l("Write the reply first.")),
        Length(max=MESSAGE_MAX, message=_l("Keep the message under %(max)d characters, please.")),
    ], filters=[strip])
    then = SelectField(_l("Status after this reply"), choices=options(
        (s.value, STATUS_NAMES[s])
        for s in (TicketStatus.WAITING, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)
    ), default=TicketStatus.WAITING.value)


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"),
                         choices=options((s.value, STATUS_NAMES[s]) for s in TicketStatus))


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"),
                           choices=options((p.value, PRIORITY_NAMES[p]) for p in Priority))


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"))  # choices: active staff, set per request


class NewStaffForm(ErrorsInOrder, FlaskForm):
    email = StringField(_l("Email address"), [
        InputRequired(message=_l("Enter the new colleague's email address.")), Length(max=254),
    ])
    password = PasswordField(_l("Initial password"), [
        InputRequired(message=_l("Enter an initial password.")),
    ])
    role = SelectField(_l("Role"), choices=options(
        (r.value, ROLE_NAMES[r]) for r in (Role.STAFF, Role.ADMIN)
    ), default=Role.STAFF.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=options((r.value, ROLE_NAMES[r]) for r in Role))


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])
