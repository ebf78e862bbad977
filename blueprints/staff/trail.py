"""The audit trail in words: who did what, and the values before and after."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from yanpiao.accounts import Role
from yanpiao.audit import Actor, AuditEvent
from yanpiao.feedback import Priority, TicketStatus

from ..feedback_forms import PRIORITY_NAMES, RATING_NAMES, STATUS_NAMES
from .forms import ROLE_NAMES

ACTION_NAMES = {
    "created": lazy_pgettext("audit trail", "Created"),
    "status": _l("Status changed"),
    "priority": _l("Priority changed"),
    "assigned": _l("Assigned"),
    "reply": _l("Reply sent to the reporter"),
    "follow_up": _l("Reporter added a message"),
    "rating": _l("Reporter rated the answer"),
    "contact_removed": _l("Reporter deleted their contact details"),
    "deleted": _l("Ticket deleted"),
    "role": _l("Role changed"),
    "active": _l("Access changed"),
}


def _value_words(names: Mapping[int, str]) -> dict[str, Callable[[str], str]]:
    def person(value: str) -> str:
        if not value:
            return _("nobody")
        return names.get(int(value), _("a former staff member")) if value.isdigit() else value

    def active(value: str) -> str:
        return _("active") if value == "True" else _("deactivated")

    def status(value: str) -> str:
        return str(STATUS_NAMES[TicketStatus(value)]) if value in set(TicketStatus) else value

    def role(value: str) -> str:
        return str(ROLE_NAMES[Role(value)]) if value in set(Role) else value

    return {
        "created": lambda v: status(v) if v in set(TicketStatus) else role(v),
        "status": status,
        "priority": lambda v: str(PRIORITY_NAMES[Priority(v)]) if v in set(Priority) else v,
        "assigned": person,
        "rating": lambda v: str(RATING_NAMES.get(int(v), v)) if v.isdigit() else v,
        "role": role,
        "active": active,
    }


def describe(events: list[AuditEvent], names: Mapping[int, str]) -> list[dict]:
    """Rows for the trail table; ``names`` maps account ids to how staff know them."""
    words = _value_words(names)
    rows = []
    for event in events:
        if event.actor == Actor.REPORTER:
            who = _("Reporter")
        elif event.actor == Actor.SYSTEM:
            who = _("Command line")
        else:
            who = names.get(event.actor_id, _("a former staff member"))
        convert = words.get(event.action, lambda v: v)
        rows.append({
            "when": event.created_at,
            "who": who,
            "what": str(ACTION_NAMES.get(event.action, event.action)),
            "old": convert(event.old_value) if event.old_value else "",
            "new": convert(event.new_value) if event.new_value else "",
        })
    return rows
