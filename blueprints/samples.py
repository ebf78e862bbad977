"""Demo invoices with the fields to type and a QR code each, so newcomers can try it."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup

from yanpiao.samples import demo_samples

from .ext import db

bp = Blueprint("samples", __name__)


def qr_svg(payload: str) -> Markup:
    # Markup: segno writes the SVG itself from a payload of digits, commas and hex.
    svg = segno.make_qr(payload, error="m").svg_inline(scale=3, border=2, dark="#000", omitsize=False)
    return Markup(svg)  # nosec B704 # SVG written by segno


@bp.get("/samples")
def samples():
    if not current_app.config["YANPIAO_DEMO"]:
        abort(404)
    return render_template("samples/page.html", samples=demo_samples(db.session), qr_svg=qr_svg)
