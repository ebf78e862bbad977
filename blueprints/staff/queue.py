"""The feedback queue and one ticket's page, with the actions staff take on it."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from yanpiao import audit, feedback
from yanpiao.accounts import User
from yanpiao.audit import Subject
from yanpiao.db import utcnow
from yanpiao.feedback import OPEN, Category, FeedbackError, Priority, QueueFilter, TicketStatus
from yanpiao.mail import mails_about_ticket, undelivered
from yanpiao.models import VerificationRecord
from yanpiao.staff_accounts import active_staff

from .. import context
from ..ext import db
from ..feedback import REPLY_SUBJECT, Mailed, mail_reporter
from ..feedback_forms import STATUS_NAMES, options
from ..messages import FIELD_LABELS
from ..render import page_or_fragment
from . import bp
from .forms import AssignForm, PriorityForm, QueueFilterForm, ReplyForm, StatusForm
from .trail import describe

PAGE_SIZE = 50
DONE = "staff-done"
PROBLEM = "staff-problem"


def names_for(ids) -> dict[int, str]:
    """How staff know the accounts with these ids (their email or phone)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.login_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def assignee_choices(holders) -> list[tuple[str, str]]:
    """Active staff, then the accounts among ``holders`` that are not (deactivated, or no
    longer staff) but still hold tickets: those tickets stay findable and keep their holder."""
    staff = active_staff(db.session)
    others = set(holders) - {user.id for user in staff} - {None}
    former = db.session.scalars(select(User).where(User.id.in_(others)).order_by(User.email))
    return ([(str(user.id), user.login_name) for user in staff]
            + [(str(user.id), _("%(login)s (no longer on staff)", login=user.login_name))
               for user in former])


def _filter_form() -> tuple[QueueFilterForm, QueueFilter]:
    form = QueueFilterForm(formdata=request.args)
    form.assignee.choices = options(
        [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
        + assignee_choices(feedback.assignee_ids(db.session))
    )
    form.validate()
    for field in (form.status, form.category, form.priority, form.assignee):
        if field.errors:  # an address edited by hand: fall back to the default view
            field.data, field.errors = field.default, []
    status = form.status.data
    assignee = form.assignee.data
    filters = QueueFilter(
        status=OPEN if status == OPEN else None if status == "all" else TicketStatus(status),
        category=Category(form.category.data) if form.category.data else None,
        priority=Priority(form.priority.data) if form.priority.data else None,
        overdue=bool(form.overdue.data),
        assignee_id=(current_user.id if assignee == "me"
                     else int(assignee) if assignee.isdigit() else None),
        unassigned=assignee == "none",
    )
    return form, filters


@bp.get("/feedback")
def queue():
    form, filters = _filter_form()
    now = utcnow()
    result = feedback.queue(db.session, filters, now=now,
                            page=request.args.get("page", 1, type=int) or 1, per_page=PAGE_SIZE)
    return page_or_fragment(
        "staff/queue.html", "staff/_ticket_list.html",
        form=form, result=result, now=now,
        filters={k: v for k, v in request.args.items() if k != "page"},
        names=names_for(t.assigned_to_id for t in result.tickets),
        undelivered=undelivered(db.session, [t.id for t in result.tickets]),
    )


@bp.get("/feedback/deleted")
def deleted():
    result = feedback.staff_deletions(
        db.session, page=request.args.get("page", 1, type=int) or 1, per_page=PAGE_SIZE)
    names = names_for(e.actor_id for e in result.events)
    return render_template(
        "staff/deleted.html", result=result,
        rows=[{"number": e.new_value, "when": e.created_at,
               "who": names.get(e.actor_id, _("a former staff member"))} for e in result.events],
        retention=context.retention("YANPIAO_FEEDBACK_RETENTION_DAYS"),
    )


def _ticket_or_404(number: str):
    ticket = feedback.find_by_number(db.session, number)
    if ticket is None:
        deletion = feedback.deletion_of(db.session, number)
        if deletion is None:
            abort(404)
        # An old link (a notification, a bookmark): say what became of the ticket.
        who = names_for([deletion.actor_id]).get(deletion.actor_id, _("a former staff member"))
        abort(make_response(render_template(
            "staff/ticket_deleted.html", number=deletion.new_value, when=deletion.created_at,
            who=who), 410))
    return ticket


def _render_ticket(ticket, *, reply_form=None, status: int = 200):
    events = audit.trail(db.session, Subject.TICKET, ticket.id)
    assign_form = AssignForm(formdata=None, assignee=str(ticket.assigned_to_id or ""))
    assign_form.assignee.choices = options(
        [("", _("Nobody"))] + assignee_choices([ticket.assigned_to_id]))
    status_form = StatusForm(formdata=None)
    status_form.status.choices = [
        choice for choice in status_form.status.choices
        if TicketStatus(choice.value) in feedback.TRANSITIONS[ticket.status_enum]
    ]
    # A reply may leave the status as it is or move it the way the rules allow: a closed
    # ticket's reply reopens it, as nothing else could be sent from here.
    reply_form = reply_form or ReplyForm(formdata=None)
    reply_form.then.choices = [
        choice for choice in reply_form.then.choices
        if TicketStatus(choice.value) is ticket.status_enum
        or TicketStatus(choice.value) in feedback.TRANSITIONS[ticket.status_enum]
    ]
    if reply_form.then.data not in {choice.value for choice in reply_form.then.choices}:
        reply_form.then.data = reply_form.then.choices[0].value
    record = (db.session.get(VerificationRecord, ticket.invoice_reference)
              if ticket.invoice_reference else None)
    mails = mails_about_ticket(db.session, ticket.id)
    names = names_for([ticket.user_id, ticket.assigned_to_id]
                      + [e.actor_id for e in events] + [m.staff_id for m in ticket.messages])
    return render_template(
        "staff/ticket.html", ticket=ticket, now=utcnow(), names=names,
        record=record,
        mismatched=[str(FIELD_LABELS.get(f, f)) for f in record.mismatch_fields.split(",") if f]
        if record else [],
        trail=describe(events, names),
        receipt_mails=[mail for mail in mails if mail.message_id is None],
        reply_mails={mail.message_id: mail for mail in mails if mail.message_id is not None},
        reply_form=reply_form,
        status_form=status_form, assign_form=assign_form,
        priority_form=PriorityForm(formdata=None, priority=ticket.priority),
        done=get_flashed_messages(category_filter=[DONE]),
        problems=get_flashed_messages(category_filter=[PROBLEM]),
    ), status


def _back(ticket, anchor: str | None = None):
    return redirect(url_for("staff.ticket", number=ticket.number, _anchor=anchor), code=303)


@bp.get("/feedback/<number>")
def ticket(number: str):
    return _render_ticket(_ticket_or_404(number))


@bp.route("/feedback/<number>/delete", methods=["GET", "POST"])
def delete_ticket(number: str):
    """Asks first (GET), then deletes the ticket and everything about it (POST)."""
    ticket = _ticket_or_404(number)
    if request.method == "GET":
        return render_template("staff/delete_ticket.html", ticket=ticket)
    feedback.delete_ticket(db.session, ticket, staff_id=current_user.id, now=utcnow())
    flash(_("Ticket %(number)s was deleted.", number=number))
    return redirect(url_for("staff.queue"), code=303)


@bp.post("/feedback/<number>/reply")
def reply(number: str):
    ticket = _ticket_or_404(number)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, reply_form=form, status=422)
    try:
        message = feedback.reply(db.session, ticket, form.body.data, actor_id=current_user.id,
                                 then=TicketStatus(form.then.data), now=utcnow())
    except FeedbackError:
        db.session.rollback()
        # A form from before the status changed: the page now offers only what is possible.
        flash(_("A reply cannot move a ticket that is “%(status)s” to that status. Choose one "
                "of the statuses offered now.",
                status=STATUS_NAMES[ticket.status_enum]), PROBLEM)
        return _render_ticket(ticket, reply_form=form, status=409)
    mailed = mail_reporter(ticket, REPLY_SUBJECT, "feedback/reply_mail.txt", message,
                           reply=message.body)
    db.session.commit()
    if mailed is Mailed.QUEUED:
        flash(_("Your reply is on the reporter's status page and is being emailed to "
                "%(address)s.", address=ticket.contact), DONE)
    elif mailed is Mailed.NO_SERVER:
        flash(_("Your reply is on the reporter's status page. This site has no mail server "
                "set up: please write to them at %(address)s yourself.",
                address=ticket.contact), DONE)
    elif ticket.contact:
        flash(_("Your reply is on the reporter's status page. They asked to be answered at "
                "%(phone)s: call or text them.", phone=ticket.contact), DONE)
    else:
        flash(_("Your reply was sent to the reporter's status page."), DONE)
    return _back(ticket)


@bp.post("/feedback/<number>/status")
def change_status(number: str):
    ticket = _ticket_or_404(number)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        feedback.change_status(db.session, ticket, TicketStatus(form.status.data),
                               actor_id=current_user.id, now=utcnow())
    except FeedbackError:
        db.session.rollback()
        flash(_("That status change is not possible from here."), PROBLEM)
        return _back(ticket)
    db.session.commit()
    flash(_("Status changed."), DONE)
    return _back(ticket)


@bp.post("/feedback/<number>/priority")
def change_priority(number: str):
    ticket = _ticket_or_404(number)
    form = PriorityForm()
    if not form.validate_on_submit():
        abort(400)
    feedback.set_priority(db.session, ticket, Priority(form.priority.data),
                          actor_id=current_user.id, now=utcnow())
    db.session.commit()
    flash(_("Priority changed."), DONE)
    return _back(ticket)


@bp.post("/feedback/<number>/assign")
def assign(number: str):
    ticket = _ticket_or_404(number)
    form = AssignForm()
    # Active staff, or keeping the present holder (who may have left the staff meanwhile).
    staff_ids = {str(u.id): u.id for u in active_staff(db.session)}
    if ticket.assigned_to_id is not None:
        staff_ids[str(ticket.assigned_to_id)] = ticket.assigned_to_id
    form.assignee.choices = options([("", "")] + [(key, key) for key in staff_ids])
    if not form.validate_on_submit():
        abort(400)
    feedback.assign(db.session, ticket, staff_ids.get(form.assignee.data),
                    actor_id=current_user.id, now=utcnow())
    db.session.commit()
    flash(_("Assignment changed."), DONE)
    return _back(ticket)
