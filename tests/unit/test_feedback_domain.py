"""Feedback tickets: numbering, private links, the status rules, overdue tickets, reports."""

from datetime import UTC, date, datetime, timedelta

import pytest

from feedback_fixtures import NOW, SECRET, hours, known_report, submit
from yanpiao import audit, feedback
from yanpiao.accounts import Role, create_user
from yanpiao.audit import Subject
from yanpiao.feedback import Category, FeedbackError, Priority, QueueFilter, TicketStatus


@pytest.fixture
def staff_id(session):
    user = create_user(session, "correct horse battery", email="staff@example.com",
                       role=Role.STAFF)
    session.commit()
    return user.id


def test_ticket_numbers_count_up_per_year_of_the_china_calendar(session):
    first, _ = submit(session, when=datetime(2026, 3, 1, tzinfo=UTC))
    second, _ = submit(session, when=datetime(2026, 3, 2, tzinfo=UTC))
    # 16:30 UTC on New Year's Eve is already 1 January in Beijing.
    new_year, _ = submit(session, when=datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert [first.number, second.number, new_year.number] == [
        "FB-2026-000001", "FB-2026-000002", "FB-2027-000001"]


def test_a_deleted_tickets_number_and_id_are_never_given_again(session, staff_id):
    """A number people quoted, and the id its staff deletion is recorded under, stay its own."""
    first, _ = submit(session)
    newest, _ = submit(session)
    gone_id, gone_number = newest.id, newest.number
    feedback.delete_ticket(session, newest, staff_id=staff_id, now=NOW)
    after, _ = submit(session)
    session.commit()
    assert (first.number, gone_number, after.number) == (
        "FB-2026-000001", "FB-2026-000002", "FB-2026-000003")
    assert after.id != gone_id
    assert [e.action for e in audit.trail(session, Subject.TICKET, after.id)] == ["created"]
    # Deleting the new report keeps the record of the earlier deletion.
    feedback.delete_ticket(session, after)
    assert [(e.action, e.new_value) for e in audit.trail(session, Subject.TICKET, gone_id)] == [
        ("deleted", gone_number)]


def test_the_same_submission_key_makes_one_ticket(session):
    key = feedback.new_submission_key()
    first, token = submit(session, key=key, message="first click")
    again, _created = feedback.submit_ticket(
        session, feedback.Submission(category=Category.OTHER, message="second click"),
        submission_key=key, status_token=feedback.status_token_for(SECRET, key), now=NOW)
    assert again.id == first.id and not _created
    assert session.query(feedback.Ticket).count() == 1
    assert feedback.find_by_token(session, token).message == "first click"


def test_status_tokens_are_private_and_only_their_hash_is_stored(session):
    ticket, token = submit(session)
    other, other_token = submit(session)
    assert len(token) == 43 and token != other_token
    assert token not in (ticket.token_hash, ticket.submission_key)
    assert feedback.status_token_for(SECRET, ticket.submission_key) == token
    assert feedback.status_token_for("another secret", ticket.submission_key) != token
    assert feedback.find_by_token(session, token).id == ticket.id
    assert feedback.find_by_token(session, other_token).id == other.id
    for wrong in ("", token[:-1], token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 43,
                  "../" + token, token + "="):
        assert feedback.find_by_token(session, wrong) is None


def test_a_ticket_gives_its_link_again_only_with_the_key_that_made_it(session):
    ticket, token = submit(session)
    assert feedback.status_token_of(SECRET, ticket) == token
    # After a key change the mailed link would not open the report: better none at all.
    assert feedback.status_token_of("a rotated secret", ticket) is None


@pytest.mark.parametrize("contact, email", [
    ("me@example.com", "me@example.com"), ("13800138000", ""), ("", "")])
def test_only_an_email_contact_is_mailed(session, contact, email):
    ticket, _token = submit(session)
    ticket.contact = contact
    assert ticket.contact_email == email


def test_sending_anonymously_keeps_no_contact_and_no_account(session, staff_id):
    ticket, _ = submit(session, contact="me@example.com", user_id=staff_id, anonymous=True)
    assert (ticket.contact, ticket.user_id, ticket.anonymous) == ("", None, True)
    named, _ = submit(session, contact="me@example.com", user_id=staff_id)
    assert (named.contact, named.user_id) == ("me@example.com", staff_id)


def test_status_moves_forward_and_never_back_to_new(session, staff_id):
    ticket, _ = submit(session)
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED,
                   TicketStatus.CLOSED, TicketStatus.IN_PROGRESS):
        feedback.change_status(session, ticket, status, actor_id=staff_id, now=NOW)
        assert ticket.status_enum is status
    with pytest.raises(FeedbackError):
        feedback.change_status(session, ticket, TicketStatus.NEW, actor_id=staff_id, now=NOW)
    assert ticket.resolved_at is None and ticket.closed_at is None  # reopened


def test_a_reporter_follow_up_reopens_and_makes_it_staffs_turn(session, staff_id):
    ticket, _ = submit(session)
    feedback.reply(session, ticket, "Please send a photo.", actor_id=staff_id, now=NOW)
    assert ticket.status_enum is TicketStatus.WAITING and ticket.awaiting_reply_since is None
    feedback.add_follow_up(session, ticket, "Here it is.", now=NOW + hours(1))
    assert ticket.status_enum is TicketStatus.IN_PROGRESS
    assert ticket.awaiting_reply_since == NOW + hours(1)
    feedback.change_status(session, ticket, TicketStatus.CLOSED, actor_id=staff_id, now=NOW)
    with pytest.raises(FeedbackError):
        feedback.add_follow_up(session, ticket, "Too late", now=NOW)


def test_rating_only_once_and_only_when_resolved(session, staff_id):
    ticket, _ = submit(session)
    with pytest.raises(FeedbackError, match="not_resolved"):
        feedback.rate(session, ticket, 4, now=NOW)
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id, now=NOW)
    for wrong in (0, 6):
        with pytest.raises(FeedbackError, match="rating_range"):
            feedback.rate(session, ticket, wrong, now=NOW)
    feedback.rate(session, ticket, 4, now=NOW)
    with pytest.raises(FeedbackError, match="already_rated"):
        feedback.rate(session, ticket, 5, now=NOW)
    assert ticket.rating == 4


def test_a_reopened_ticket_asks_for_a_rating_of_its_next_answer(session, staff_id):
    """Reopened after a rating, the status page kept "You rated our answer: 4" and offered no
    way to rate the answer that resolved it the second time."""
    ticket, _ = submit(session)
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id, now=NOW)
    feedback.rate(session, ticket, 2, now=NOW)
    feedback.change_status(session, ticket, TicketStatus.IN_PROGRESS, actor_id=staff_id,
                           now=NOW + hours(1))
    assert ticket.rating is None and not ticket.can_be_rated
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id,
                           now=NOW + hours(2))
    assert ticket.can_be_rated
    feedback.rate(session, ticket, 5, now=NOW + hours(3))
    assert ticket.rating == 5
    session.flush()
    ratings = [e.new_value for e in audit.trail(session, Subject.TICKET, ticket.id)
               if e.action == "rating"]
    assert ratings == ["2", "5"]  # the first one is kept where staff can see it


def test_every_change_is_in_the_audit_trail(session, staff_id):
    ticket, _ = submit(session)
    feedback.assign(session, ticket, staff_id, actor_id=staff_id, now=NOW)
    feedback.set_priority(session, ticket, Priority.URGENT, actor_id=staff_id, now=NOW)
    feedback.reply(session, ticket, "Fixed", actor_id=staff_id, then=TicketStatus.RESOLVED,
                   now=NOW)
    feedback.rate(session, ticket, 5, now=NOW)
    session.flush()
    trail = [(e.actor, e.action, e.old_value, e.new_value)
             for e in audit.trail(session, Subject.TICKET, ticket.id)]
    assert trail == [
        ("reporter", "created", "", "new"),
        ("staff", "assigned", "", str(staff_id)),
        ("staff", "priority", "normal", "urgent"),
        ("staff", "reply", "", ""),
        ("staff", "status", "new", "resolved"),
        ("reporter", "rating", "", "5"),
    ]


# --- overdue, with a frozen clock -----------------------------------------------------------

@pytest.mark.parametrize("priority, waited, overdue", [
    (Priority.NORMAL, timedelta(days=7), False),
    (Priority.NORMAL, timedelta(days=7, seconds=1), True),
    (Priority.URGENT, timedelta(hours=24), False),
    (Priority.URGENT, timedelta(hours=24, seconds=1), True),
])
def test_overdue_after_the_response_time_standard(session, staff_id, priority, waited, overdue):
    ticket, _ = submit(session, when=NOW)
    feedback.set_priority(session, ticket, priority, actor_id=staff_id, now=NOW)
    session.commit()
    later = NOW + waited
    assert ticket.is_overdue(later) is overdue
    assert (feedback.queue(session, QueueFilter(overdue=True), now=later).total == 1) is overdue
    assert feedback.queue_summary(session, now=later).overdue == int(overdue)


def test_a_reply_stops_the_clock_and_a_follow_up_restarts_it(session, staff_id):
    ticket, _ = submit(session, when=NOW)
    feedback.reply(session, ticket, "Which invoice?", actor_id=staff_id, now=NOW + hours(1))
    assert not ticket.is_overdue(NOW + timedelta(days=30))  # waiting for the reporter
    feedback.add_follow_up(session, ticket, "This one.", now=NOW + timedelta(days=10))
    assert not ticket.is_overdue(NOW + timedelta(days=16))
    assert ticket.is_overdue(NOW + timedelta(days=17, seconds=1))
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id,
                           now=NOW + timedelta(days=18))
    assert not ticket.is_overdue(NOW + timedelta(days=60))


def test_queue_filters_and_order(session, staff_id):
    old, _ = submit(session, when=NOW - timedelta(days=3), category=Category.SCANNING)
    urgent, _ = submit(session, when=NOW - timedelta(days=2), category=Category.WRONG_RESULT)
    feedback.set_priority(session, urgent, Priority.URGENT, actor_id=staff_id, now=NOW)
    recent, _ = submit(session, when=NOW, category=Category.SCANNING)
    feedback.assign(session, recent, staff_id, actor_id=staff_id, now=NOW)
    closed, _ = submit(session, when=NOW - timedelta(days=5))
    feedback.change_status(session, closed, TicketStatus.CLOSED, actor_id=staff_id, now=NOW)
    session.commit()

    def numbers(**filters):
        result = feedback.queue(session, QueueFilter(**filters), now=NOW)
        assert result.total == len(result.tickets)
        return [t.number for t in result.tickets]

    assert numbers() == [urgent.number, old.number, recent.number]  # urgent, then longest waiting
    assert numbers(status=None) == [urgent.number, old.number, recent.number, closed.number]
    assert numbers(status=TicketStatus.CLOSED) == [closed.number]
    assert numbers(category=Category.SCANNING) == [old.number, recent.number]
    assert numbers(priority=Priority.URGENT) == [urgent.number]
    assert numbers(assignee_id=staff_id) == [recent.number]
    assert numbers(unassigned=True) == [urgent.number, old.number]
    assert numbers(overdue=True) == [urgent.number]  # an urgent ticket waiting for 2 days


def test_queue_pages_and_a_stale_page_number_shows_the_last_page(session):
    tickets = [submit(session, when=NOW - timedelta(minutes=n))[0] for n in range(5)]
    session.commit()
    oldest_first = [t.number for t in reversed(tickets)]  # the longest waiting first

    def page(number):
        result = feedback.queue(session, QueueFilter(), now=NOW, page=number, per_page=2)
        return result.page, result.pages, [t.number for t in result.tickets]

    assert page(1) == (1, 3, oldest_first[:2])
    assert page(3) == (3, 3, oldest_first[4:])
    assert page(99) == page(3)
    assert page(-1) == page(1)


# --- the report against a fixture worked out by hand ---------------------------------------

def test_weekly_report_numbers(session, staff_id):
    known_report(session, staff_id)
    report = feedback.weekly_report(session, weeks=2, now=NOW)
    first, second = report.weeks
    assert (first.start, second.start) == (date(2026, 11, 9), date(2026, 11, 16))
    assert {c: n for c, n in first.by_category.items() if n} == {
        Category.WRONG_RESULT: 1, Category.SCANNING: 1}
    assert {c: n for c, n in second.by_category.items() if n} == {
        Category.WRONG_RESULT: 1, Category.ACCESSIBILITY: 1}
    assert {s: n for s, n in first.by_status.items() if n} == {TicketStatus.RESOLVED: 2}
    assert {s: n for s, n in second.by_status.items() if n} == {
        TicketStatus.NEW: 1, TicketStatus.WAITING: 1}
    assert (first.median_first_reply_hours, first.median_resolution_hours) == (7, 36)
    assert (second.median_first_reply_hours, second.median_resolution_hours) == (2, None)
    assert report.total == 4  # the suggestion from before the period is not counted
    assert report.median_first_reply_hours == 4  # median of 4, 10 and 2 hours
    assert report.median_resolution_hours == 36
    assert report.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert report.average_rating == 4


def test_an_empty_report_has_every_week_and_no_medians(session):
    report = feedback.weekly_report(session, weeks=4, now=NOW)
    assert [w.total for w in report.weeks] == [0, 0, 0, 0]
    assert report.median_first_reply_hours is None and report.average_rating is None


# --- retention ------------------------------------------------------------------------------

def test_purge_deletes_finished_tickets_with_everything_about_them(session, staff_id):
    from sqlalchemy import func, select

    from yanpiao.mail import OutgoingMail, queue_mail

    year = timedelta(days=365)
    old = NOW - year - hours(1)
    closed, _ = submit(session, when=old - hours(5), contact="a@example.com",
                       message="Old and finished.")
    reply = feedback.reply(session, closed, "Done.", actor_id=staff_id,
                           then=TicketStatus.RESOLVED, now=old - hours(2))
    session.flush()
    queue_mail(session, "a@example.com", "Reply", "Your link …", ticket_id=closed.id,
               message_id=reply.id)
    feedback.change_status(session, closed, TicketStatus.CLOSED, actor_id=staff_id, now=old)
    open_but_old, _ = submit(session, when=old - hours(9), message="Still open.")
    resolved_lately, _ = submit(session, when=old - hours(9), message="Reopened and resolved.")
    feedback.change_status(session, resolved_lately, TicketStatus.RESOLVED, actor_id=staff_id,
                           now=NOW - hours(3))
    session.commit()
    kept = {open_but_old.id, resolved_lately.id}
    assert closed.deleted_after(year) == old + year < NOW
    assert open_but_old.deleted_after(year) is None and closed.deleted_after(None) is None

    assert feedback.purge_finished(session, year, now=NOW) == 1
    session.expire_all()
    remaining = {t.id for t in session.scalars(select(feedback.Ticket))}
    assert remaining == kept
    # Nothing of the deleted report stays: no message, no mail, no audit trail.
    assert session.scalar(select(func.count()).select_from(feedback.TicketMessage)) == 0
    assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    assert audit.trail(session, Subject.TICKET, closed.id) == []
    assert audit.trail(session, Subject.TICKET, open_but_old.id) != []
    # Running it again finds nothing more; a shorter period reaches the ticket resolved lately.
    assert feedback.purge_finished(session, year, now=NOW) == 0
    assert feedback.purge_finished(session, hours(2), now=NOW) == 1


def test_purge_spares_a_ticket_changed_after_it_was_chosen(session, staff_id, monkeypatch):
    """A follow-up between listing and deleting reopens the ticket: it must stay, whole."""
    old = NOW - timedelta(days=400)
    ticket, _ = submit(session, when=old)
    feedback.change_status(session, ticket, TicketStatus.RESOLVED, actor_id=staff_id, now=old)
    session.commit()
    real_scalars = session.scalars
    calls = []

    def reopen_after_listing(statement, *args, **kwargs):
        result = real_scalars(statement, *args, **kwargs)
        if not calls:  # the listing: the reporter writes back before the delete runs
            calls.append(statement)
            result = list(result)
            feedback.add_follow_up(session, ticket, "It happened again.", now=NOW)
            session.flush()
        return result

    monkeypatch.setattr(session, "scalars", reopen_after_listing)
    assert feedback.purge_finished(session, timedelta(days=365), now=NOW) == 0
    monkeypatch.undo()
    session.expire_all()
    assert session.get(feedback.Ticket, ticket.id).status_enum is TicketStatus.IN_PROGRESS
    assert [m.body for m in session.get(feedback.Ticket, ticket.id).messages] == [
        "It happened again."]


def test_staff_deletions_come_newest_first_a_page_at_a_time(session, staff_id):
    numbers = []
    for minutes in range(3):
        ticket, _ = submit(session)
        numbers.append(ticket.number)
        feedback.delete_ticket(session, ticket, staff_id=staff_id,
                               now=NOW + timedelta(minutes=minutes))
    first = feedback.staff_deletions(session, page=1, per_page=2)
    assert (first.total, first.pages, [e.new_value for e in first.events]) == (
        3, 2, numbers[:0:-1])
    # A page past the end (a stale link) shows the last one.
    last = feedback.staff_deletions(session, page=9, per_page=2)
    assert (last.page, [e.new_value for e in last.events]) == (2, numbers[:1])
