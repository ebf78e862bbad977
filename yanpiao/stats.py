"""Figures for the staff statistics page, from the record of verifications.

Every figure is one aggregate query over ``verification_records`` in a date range of the
registry's calendar (Beijing by default), so a million records cost one index range scan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from .models import VerificationRecord as Record
from .types import EntryPath, Outcome, Status

MISMATCH_FIELDS = ("issue_date", "amount", "check_code", "type")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the period starts and ends at, midnight to midnight in ``zone``."""
        start = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start, end


@dataclass
class Statistics:
    period: Period
    per_day: dict[date, int] = field(default_factory=dict)
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    statuses: dict[Status, int] = field(default_factory=dict)
    mismatch_fields: list[tuple[str, int]] = field(default_factory=list)
    entry_paths: dict[EntryPath, int] = field(default_factory=dict)
    kiosks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.per_day.values())


def _local_day(session: Session, zone: ZoneInfo, start: datetime):
    """The SQL expression of a record's calendar day in ``zone``."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(zone.key, func.timezone("UTC", Record.created_at))
        return cast(local, Date)
    # SQLite keeps naive UTC: shift by the zone's offset (fixed for China; taken at the
    # start of the period elsewhere).
    offset = start.utcoffset() or timedelta()
    return func.date(Record.created_at, f"{int(offset.total_seconds()):+d} seconds")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def collect(session: Session, period: Period, zone: ZoneInfo, kiosk_limit: int = 10) -> Statistics:
    start, end = period.bounds(zone)
    in_period = (Record.created_at >= start, Record.created_at < end)
    stats = Statistics(period)

    day = _local_day(session, zone, start).label("day")
    counts = {_as_date(d): n for d, n in session.execute(
        select(day, func.count()).where(*in_period).group_by(day)
    )}
    stats.per_day = {d: counts.get(d, 0) for d in period.days}

    outcome_counts: Counter = Counter()
    status_counts: Counter = Counter()
    for outcome, status, n in session.execute(
        select(Record.outcome, Record.status, func.count()).where(*in_period)
        .group_by(Record.outcome, Record.status)
    ):
        outcome_counts[outcome] += n
        if outcome == Outcome.MATCH and status:
            status_counts[status] += n
    stats.outcomes = {o: outcome_counts[o.value] for o in Outcome if outcome_counts[o.value]}
    stats.statuses = {s: status_counts[s.value] for s in Status if status_counts[s.value]}

    reasons: Counter = Counter()
    for fields, n in session.execute(
        select(Record.mismatch_fields, func.count())
        .where(*in_period, Record.outcome == Outcome.MISMATCH.value, Record.mismatch_fields != "")
        .group_by(Record.mismatch_fields)
    ):
        for name in fields.split(","):
            reasons[name] += n
    stats.mismatch_fields = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))

    paths = dict(session.execute(
        select(Record.entry_path, func.count()).where(*in_period).group_by(Record.entry_path)
    ).all())
    stats.entry_paths = {p: paths[p.value] for p in EntryPath if paths.get(p.value)}

    stats.kiosks = [tuple(row) for row in session.execute(
        select(Record.kiosk_id, func.count().label("n"))
        .where(*in_period, Record.kiosk_id.is_not(None), Record.kiosk_id != "")
        .group_by(Record.kiosk_id).order_by(func.count().desc(), Record.kiosk_id)
        .limit(kiosk_limit)
    )]
    return stats
