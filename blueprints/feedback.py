"""Feedback from visitors: the report form, and each report's private status page."""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from yanpiao import audit
from yanpiao.audit import Subject
from yanpiao.db import utcnow
from yanpiao.feedback import (
    RESPONSE_TIME,
    FeedbackError,
    Priority,
    TicketStatus,
    add_follow_up,
    delete_ticket,
    find_by_token,
    is_submission_key,
    new_submission_key,
    Ticket,
    TicketMessage,
    purge_finished,
    rate,
    status_token_for,
    status_token_of,
    submit_ticket,
    withdraw_contact,
)

from .context import external_url, mail, retention
from .errors import CSRF_MESSAGE, ERRORS
from .ext import db, limiter
from .feedback_forms import (
    CATEGORY_HINTS,
    CATEGORY_NAMES,
    MAIL_PROBLEMS,
    PRIORITY_NAMES,
    RATING_NAMES,
    STATUS_NAMES,
    FeedbackForm,
    FollowUpForm,
    RatingForm,
    clean_reference,
)
from .settings import DEFAULT_LOCALE, LANGUAGES

bp = Blueprint("feedback", __name__)

SENT = "feedback-sent"  # flash category of the confirmation on the status page
DONE = "feedback-done"  # flash category of other confirmations
RETENTION = "YANPIAO_FEEDBACK_RETENTION_DAYS"
RESPONSE_STANDARD = SimpleNamespace(
    hours=int(RESPONSE_TIME[Priority.URGENT].total_seconds() // 3600),
    days=RESPONSE_TIME[Priority.NORMAL].days,
)
PROGRESS = [TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING,
            TicketStatus.RESOLVED, TicketStatus.CLOSED]


def _rate_limit() -> str:
    return current_app.config["YANPIAO_FEEDBACK_RATE_LIMIT"]


@bp.app_context_processor
def feedback_words():
    return {
        "ticket_category_name": lambda c: CATEGORY_NAMES[c],
        "ticket_category_hint": lambda c: CATEGORY_HINTS[c],
        "ticket_status_name": lambda s: STATUS_NAMES[s],
        "ticket_priority_name": lambda p: PRIORITY_NAMES[p],
        "rating_name": lambda r: RATING_NAMES[r],
        "mail_problem_name": lambda p: MAIL_PROBLEMS[p],
        "response_standard": RESPONSE_STANDARD,
        "feedback_retention": retention(RETENTION),
    }


RECEIVED_SUBJECT = _l("Your Yanpiao report %(number)s")
REPLY_SUBJECT = _l("Reply to your Yanpiao report %(number)s")


class Mailed(Enum):
    QUEUED = "queued"  # in the outbox: it leaves once the transaction commits
    NO_SERVER = "no-server"  # no SMTP host is set: the mail will go to the log only


def mail_reporter(ticket: Ticket, subject: LazyString, template: str,
                  message: TicketMessage | None = None, **context) -> Mailed | None:
    """Queue a mail to the reporter in the language they wrote in, with their report's
    private link, about the ticket or one reply (``message``). The caller commits.

    None when they left no email address (no contact, a mobile number, or anonymous).
    """
    address = ticket.contact_email
    if not address:
        return None
    token = status_token_of(current_app.secret_key, ticket)
    link = external_url("feedback.status", token=token) if token else ""
    with force_locale(ticket.locale if ticket.locale in LANGUAGES else DEFAULT_LOCALE):
        body = render_template(template, ticket=ticket, link=link, **context)
        db.session.flush()  # the ticket's and the message's ids
        mail(address, str(subject) % {"number": ticket.number}, body, ticket_id=ticket.id,
             message_id=message.id if message is not None else None)
    return Mailed.QUEUED if current_app.config["YANPIAO_SMTP_HOST"] else Mailed.NO_SERVER


def _render_form(form: FeedbackForm, notice: str | None = None, status: int = 200):
    return render_template("feedback/form.html", form=form, notice=notice), status


@bp.route("/feedback", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def feedback():
    form = FeedbackForm()
    if request.method == "GET":
        form.invoice_reference.data = clean_reference(
            request.args.get("receipt") or request.args.get("invoice")
        )
        form.submission.data = new_submission_key()
        return _render_form(form)
    if not is_submission_key(form.submission.data or ""):
        form.submission.data = new_submission_key()
    if form.website.data:
        return _render_form(form, _("Your report could not be accepted. Leave the last field "
                                    "empty and send it again."), 422)
    if not form.validate_on_submit():
        return _render_form(form, status=422)
    token = status_token_for(current_app.secret_key, form.submission.data)
    submission = form.submission_value(
        user_id=current_user.id if current_user.is_authenticated else None,
        locale=str(get_locale() or ""),
    )
    try:
        ticket, created = submit_ticket(db.session, submission,
                                        submission_key=form.submission.data,
                                        status_token=token, now=utcnow())
        # A second press of Send finds the same ticket: one mail is enough.
        mailed = (mail_reporter(ticket, RECEIVED_SUBJECT, "feedback/received_mail.txt")
                  if created else None)
        db.session.commit()  # before anything confirms the report to the visitor
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("feedback ticket could not be stored")
        return _render_form(form, _("Your report could not be saved. Nothing you typed is "
                                    "lost: please send it again."), 503)
    flash(_("Thank you. Your report has been received."), SENT)
    if mailed is Mailed.QUEUED:
        flash(_("We are also emailing this link to %(address)s.", address=ticket.contact),
              DONE)
    return redirect(url_for("feedback.status", token=token), code=303)


def _ticket_or_404(token: str):
    ticket = find_by_token(db.session, token)
    if ticket is None:
        abort(_no_such_ticket())
    return ticket


def _no_such_ticket():
    """A status link that leads nowhere: mistyped, cut short, or its report was deleted."""
    kept = retention(RETENTION)
    message = _("Check that you have the whole link, as we sent or showed it to you.")
    if kept is not None:
        message = " ".join((message, ngettext(
            "A report that is resolved or closed is deleted %(num)d day after its last change.",
            "A report that is resolved or closed is deleted %(num)d days after its last change.",
            kept.days,
        )))
    return current_app.make_response((render_template(
        "errors/error.html", status=404, title=_("We cannot find this report"), message=message,
    ), 404))


def _progress(ticket) -> list[TicketStatus]:
    """The steps the report's progress shows: those still ahead, and of those behind only the
    ones it went through ("In progress" was ticked off as done on a report resolved straight
    away). Waiting for the reporter is a detour, not a stage: shown only while it is the case,
    not ticked off as done on a report that never asked them anything."""
    current = ticket.status_enum
    changes = audit.trail(db.session, Subject.TICKET, ticket.id)
    went_through = {TicketStatus.NEW} | {
        TicketStatus(event.new_value) for event in changes
        if event.action == "status" and event.new_value in TicketStatus._value2member_map_}
    position = PROGRESS.index(current)
    return [step for index, step in enumerate(PROGRESS)
            if step is current
            or (step is not TicketStatus.WAITING
                and (index > position or step in went_through))]


def _render_status(ticket, token: str, *, follow_up=None, rating=None, notice=None,
                   status: int = 200):
    response = current_app.make_response((render_template(
        "feedback/status.html", ticket=ticket, token=token,
        progress=_progress(ticket),
        follow_up=follow_up or FollowUpForm(formdata=None),
        rating=rating or RatingForm(formdata=None),
        notice=notice, sent=get_flashed_messages(category_filter=[SENT]),
        done=get_flashed_messages(category_filter=[DONE]),
    ), status))
    return _private(response)


def _private(response):
    """A page whose address is the key to a ticket: out of caches, referrers and indexes."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/feedback/status/<token>")
def status(token: str):
    return _render_status(_ticket_or_404(token), token)


@bp.post("/feedback/status/<token>/messages")
@limiter.limit(_rate_limit)
def follow_up(token: str):
    ticket = _ticket_or_404(token)
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _render_status(ticket, token, follow_up=form, status=422)
    try:
        add_follow_up(db.session, ticket, form.body.data, now=utcnow())
        db.session.commit()
    except FeedbackError:
        db.session.rollback()
        return _render_status(ticket, token, follow_up=form, status=409, notice=_(
            "This ticket is closed, so no message can be added. Please send a new report."))
    flash(_("Your message has been added."), DONE)
    return redirect(url_for("feedback.status", token=token, _anchor="conversation"), code=303)


@bp.post("/feedback/status/<token>/rating")
@limiter.limit(_rate_limit)
def rating(token: str):
    ticket = _ticket_or_404(token)
    form = RatingForm()
    if not form.validate_on_submit():
        return _render_status(ticket, token, rating=form, status=422)
    try:
        rate(db.session, ticket, int(form.rating.data), now=utcnow())
        db.session.commit()
    except FeedbackError:
        db.session.rollback()
        return _render_status(ticket, token, rating=form, status=409, notice=_(
            "This ticket cannot be rated now: it is not resolved, or it was rated already."))
    flash(_("Thank you for rating our answer."), DONE)
    return redirect(url_for("feedback.status", token=token), code=303)


@bp.post("/feedback/status/<token>/contact")
@limiter.limit(_rate_limit)
def withdraw(token: str):
    """The reporter no longer wants to be contacted: their address is deleted."""
    ticket = _ticket_or_404(token)
    if withdraw_contact(db.session, ticket, now=utcnow()):
        db.session.commit()
    flash(_("Your contact details have been deleted: we will not email or call you about this "
            "report. Our replies stay on this page."), DONE)
    return redirect(url_for("feedback.status", token=token, _anchor="your-data"), code=303)


@bp.route("/feedback/status/<token>/delete", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def delete(token: str):
    """Asks first (GET), then deletes the report and everything about it (POST)."""
    ticket = _ticket_or_404(token)
    if request.method == "GET":
        return _private(current_app.make_response(render_template(
            "feedback/delete.html", ticket=ticket, token=token)))
    number = ticket.number
    delete_ticket(db.session, ticket)
    flash(_("Your report %(number)s has been deleted, with our conversation and any contact "
            "details.", number=number))
    return redirect(url_for("feedback.feedback"), code=303)


@bp.errorhandler(CSRFError)
def expired_form(_exc):
    """An expired form comes back with everything the visitor typed."""
    if request.endpoint == "feedback.feedback":
        form = FeedbackForm(meta={"csrf": True})
        form.process(request.form)
        return _render_form(form, str(CSRF_MESSAGE), 400)
    token = (request.view_args or {}).get("token", "")
    ticket = find_by_token(db.session, token) if token else None
    if request.endpoint == "feedback.follow_up" and ticket is not None:
        form = FollowUpForm(meta={"csrf": True})
        form.process(request.form)
        return _render_status(ticket, token, follow_up=form, notice=str(CSRF_MESSAGE), status=400)
    title, _message = ERRORS[400]
    return render_template("errors/error.html", status=400, title=title,
                           message=CSRF_MESSAGE), 400


@bp.cli.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Keep this many days after the last change (default: " + RETENTION + ").")
def purge(days: int | None) -> None:
    """Delete resolved and closed reports left unchanged for the retention period."""
    kept = retention(RETENTION, days)
    if kept is None:
        click.echo("Retention is unlimited (0 days): nothing purged.")
        return
    deleted = purge_finished(db.session, kept, now=utcnow())
    click.echo(f"Purged {deleted} resolved or closed feedback reports "
               f"unchanged for {kept.days} days.")
