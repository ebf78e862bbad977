"""The one helper that decides between a full page and an htmx fragment (DESIGN habit 3)."""

from __future__ import annotations

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """An htmx request that is neither boosted nor restoring history wants a fragment."""
    return bool(request.htmx) and not request.htmx.boosted and not (
        request.htmx.history_restore_request
    )


def page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response
