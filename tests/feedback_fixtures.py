"""Feedback tickets for tests, made through the domain functions with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from yanpiao import feedback
from yanpiao.feedback import Category, Submission, TicketStatus

# A Wednesday, 12:00 in Beijing.
NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
SECRET = "test-secret"


def submit(session, *, when=NOW, category=Category.OTHER, message="Something happened.",
           key=None, **fields):
    """A new ticket and its status token."""
    key = key or feedback.new_submission_key()
    token = feedback.status_token_for(SECRET, key)
    ticket, _created = feedback.submit_ticket(
        session, Submission(category=category, message=message, **fields),
        submission_key=key, status_token=token, now=when,
    )
    session.flush()
    return ticket, token


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def known_report(session, staff_id: int) -> None:
    """Tickets whose weekly report (2 weeks up to NOW, Beijing time) is worked out by hand.

    Week of 2026-11-09: a wrong result (reply after 4 h, resolved after 24 h, rated 5) and a
    scanning problem (reply after 10 h, resolved after 48 h, rated 3).
    Week of 2026-11-16: an accessibility report sent on Sunday 17:00 UTC, which is already
    Monday in Beijing (reply after 2 h, waiting for the reporter), and a new wrong result.
    Before the period: one suggestion, which no figure may count.
    """
    submit(session, when=datetime(2026, 9, 1, 4, tzinfo=UTC), category=Category.SUGGESTION)

    first = datetime(2026, 11, 10, 2, tzinfo=UTC)
    ticket, _ = submit(session, when=first, category=Category.WRONG_RESULT)
    feedback.reply(session, ticket, "Fixed.", actor_id=staff_id, now=first + hours(4),
                   then=TicketStatus.IN_PROGRESS)
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id,
                           now=first + hours(24))
    feedback.rate(session, ticket, 5, now=first + hours(30))

    second = datetime(2026, 11, 11, 0, tzinfo=UTC)
    ticket, _ = submit(session, when=second, category=Category.SCANNING)
    feedback.reply(session, ticket, "Try again.", actor_id=staff_id, now=second + hours(10))
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id,
                           now=second + hours(48))
    feedback.rate(session, ticket, 3, now=second + hours(50))

    third = datetime(2026, 11, 15, 17, tzinfo=UTC)
    ticket, _ = submit(session, when=third, category=Category.ACCESSIBILITY)
    feedback.reply(session, ticket, "Which page?", actor_id=staff_id, now=third + hours(2))

    submit(session, when=datetime(2026, 11, 17, 3, tzinfo=UTC), category=Category.WRONG_RESULT)
    session.commit()
