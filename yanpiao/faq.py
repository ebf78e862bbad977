"""The FAQ's rules: searching questions in any language, and "was this helpful?" counts.

The questions themselves are translatable text and live in the web layer; this module sees them
as plain strings in whatever language the visitor reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, utcnow
from .normalize import fold

QUERY_MAX = 100
_SPACE = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[\"'“”‘’「」『』《》?？!！,，.。:：;；()（）]+")


class FaqVote(Base):
    """How many readers found one answer helpful, and how many did not."""

    __tablename__ = "faq_votes"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class SearchEntry:
    key: str
    question: str
    text: str  # the question, its answer and its topic, as the reader sees them


def normalise_query(query: str) -> str:
    """Full-width folded, case-folded, punctuation and runs of spaces made single spaces."""
    text = _PUNCTUATION.sub(" ", fold(query or "")).casefold()
    return _SPACE.sub(" ", text).strip()


def search(entries: Sequence[SearchEntry], query: str) -> list[str]:
    """Keys of the entries holding every word of the query; question hits first.

    Chinese and Japanese do not separate words with spaces, so each space-separated term is
    matched as a substring, which serves both kinds of script.
    """
    terms = normalise_query((query or "")[:QUERY_MAX]).split(" ")
    terms = [t for t in terms if t]
    if not terms:
        return [entry.key for entry in entries]
    scored = []
    for position, entry in enumerate(entries):
        haystack = normalise_query(entry.text + " " + entry.question)
        if all(term in haystack for term in terms):
            question = normalise_query(entry.question)
            in_question = sum(term in question for term in terms)
            scored.append((-in_question, position, entry.key))
    return [key for _score, _position, key in sorted(scored)]


def record_vote(session: Session, slug: str, helpful: bool, *,
                now: datetime | None = None) -> None:
    """Count one vote; the caller checks the slug is a real question and commits."""
    now = now or utcnow()
    column = FaqVote.helpful if helpful else FaqVote.not_helpful
    bumped = session.execute(
        update(FaqVote).where(FaqVote.slug == slug).values({column: column + 1, "updated_at": now})
    ).rowcount
    if bumped:
        return
    try:
        with session.begin_nested():
            session.add(FaqVote(slug=slug, helpful=int(helpful), not_helpful=int(not helpful),
                                updated_at=now))
    except IntegrityError:  # another reader's first vote came first
        session.execute(
            update(FaqVote).where(FaqVote.slug == slug)
            .values({column: column + 1, "updated_at": now})
        )


def vote_counts(session: Session, slugs: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
    """(helpful, not helpful) per slug; slugs without votes are (0, 0)."""
    counts = {slug: (0, 0) for slug in slugs or ()}
    for vote in session.scalars(select(FaqVote)):
        if slugs is None or vote.slug in counts:
            counts[vote.slug] = (vote.helpful, vote.not_helpful)
    return counts
