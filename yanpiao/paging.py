"""One page of a long list, with what the links around it need to know."""

from __future__ import annotations

from dataclasses import dataclass


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` entries fill, ``per_page`` at a time; an empty list has one."""
    return max(1, -(-total // per_page))


def within_pages(page: int, total: int, per_page: int) -> int:
    """``page`` moved into 1 … the last page: a stale link shows the nearest page."""
    return min(max(1, page), page_count(total, per_page))


@dataclass(frozen=True)
class Page:
    """Page ``page`` (from 1) of ``total`` entries shown ``per_page`` at a time."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
