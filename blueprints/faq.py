"""The FAQ page: questions by topic, a live search, and "was this helpful?" per answer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request
from flask import session as browser_session
from flask import url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf

from yanpiao.faq import QUERY_MAX, SearchEntry, record_vote, search

from .ext import db, limiter
from .faq_content import QUESTIONS, TOPICS, Only, Plural
from .feedback import RESPONSE_STANDARD
from .render import page_or_fragment, wants_fragment
from .validators import MaxLength

bp = Blueprint("faq", __name__)

# Which answers this browser has voted on, so one reader counts once per answer.
VOTED = "faq_votes"


@dataclass(frozen=True)
class ShownQuestion:
    slug: str
    topic: str
    question: str
    paragraphs: list[str]
    links: list[tuple[str, str]]
    figure: str | None


@dataclass(frozen=True)
class ShownTopic:
    slug: str
    title: str
    questions: list[ShownQuestion]


class VoteForm(FlaskForm):
    helpful = StringField(validators=[AnyOf(["yes", "no"])])
    q = StringField(validators=[MaxLength(QUERY_MAX)])


def placeholders() -> dict:
    """The values of the placeholders FAQ texts may use (see faq_content)."""
    config = current_app.config
    megabytes = (config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return {
        "limit": config["YANPIAO_DAILY_LIMIT"],
        "years": config["YANPIAO_MAX_AGE_YEARS"],
        "max_upload": _("%(megabytes)d MB", megabytes=megabytes),
        "urgent_hours": RESPONSE_STANDARD.hours,
        "normal_days": RESPONSE_STANDARD.days,
        "history_days": max(config["YANPIAO_HISTORY_RETENTION_DAYS"], 0),
        "feedback_days": max(config["YANPIAO_FEEDBACK_RETENTION_DAYS"], 0),
    }


def fill(text, values: dict) -> str:
    """A FAQ text with its placeholders filled; a stray "%" in a translation stays as it is."""
    if isinstance(text, Plural):
        count = values[text.count]
        text = get_translations().ngettext(text.singular, text.plural, count)
        values = {**values, "num": count}
    try:
        return str(text) % values
    except (KeyError, ValueError, TypeError):
        return str(text)


def paragraphs(answer: tuple, values: dict) -> list[str]:
    """An answer's paragraphs, filled in, without those that do not apply here."""
    return [fill(p.text, values) if isinstance(p, Only) else fill(p, values)
            for p in answer if not isinstance(p, Only) or values.get(p.when)]


def shown_topics() -> list[ShownTopic]:
    """Every topic in the reader's language, placeholders filled, links to existing pages."""
    values = placeholders()
    endpoints = current_app.view_functions
    topics = []
    for topic in TOPICS:
        title = str(topic.title)
        questions = [
            ShownQuestion(
                slug=q.slug,
                topic=title,
                question=fill(q.question, values),
                paragraphs=paragraphs(q.answer, values),
                links=[(url_for(e), str(label)) for e, label in q.links if e in endpoints],
                figure=q.figure,
            )
            for q in topic.questions
        ]
        topics.append(ShownTopic(topic.slug, title, questions))
    return topics


def _matches(topics: list[ShownTopic], query: str) -> list[ShownQuestion]:
    by_slug = {q.slug: q for topic in topics for q in topic.questions}
    entries = [
        SearchEntry(q.slug, q.question, " ".join([q.topic, *q.paragraphs]))
        for q in by_slug.values()
    ]
    return [by_slug[slug] for slug in search(entries, query)]


@bp.get("/faq")
def faq():
    query = request.args.get("q", "", type=str)[:QUERY_MAX].strip()
    topics = shown_topics()
    results = _matches(topics, query) if query else None
    response = page_or_fragment(
        "faq/page.html", "faq/_results.html",
        topics=topics, query=query, results=results,
        voted=browser_session.get(VOTED, {}), vote_form=VoteForm(),
    )
    return response


@bp.post("/faq/<slug>/vote")
@limiter.limit(lambda: current_app.config["YANPIAO_FAQ_VOTE_RATE_LIMIT"])
def vote(slug: str):
    if slug not in QUESTIONS:
        abort(404)
    form = VoteForm()
    if not form.validate_on_submit():
        abort(400)
    voted = dict(browser_session.get(VOTED, {}))
    if slug not in voted:
        record_vote(db.session, slug, form.helpful.data == "yes")
        db.session.commit()
        voted[slug] = form.helpful.data
        browser_session[VOTED] = voted
    if wants_fragment():
        question = next(q for t in shown_topics() for q in t.questions if q.slug == slug)
        response = make_response(render_template("faq/_vote.html", q=question, voted=voted))
        response.vary.add("HX-Request")
        return response
    return redirect(url_for("faq.faq", q=form.q.data or None, _anchor=slug), code=303)
