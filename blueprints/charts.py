"""Server-rendered SVG charts with the data table under each: no JavaScript, no chart library.

Reusable by any page (statistics, feedback reports)::

    from blueprints.charts import bar_chart, column_chart, percentage_bar
    {{ bar_chart("top-reasons", _("Top reasons"), [(label, n), ...]) }}

Each function returns a ``<figure>`` holding the chart as ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` (what the chart shows, read by screen readers) and a
``<table>`` with the same figures, so nothing depends on seeing the bars or telling colours
apart. ``grouped_columns`` (several series per week) returns the chart alone, for pages that
show its figures in a table of their own. On a narrow screen a chart keeps a legible size and
scrolls sideways in its box instead of shrinking its labels. Colours come from ``chart-c0`` …
``chart-c7`` classes in site.css (no inline styles: the CSP forbids them). Labels are escaped;
numbers are formatted per locale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

Item = tuple[str, float]
COLOURS = 8
# Width of a digit of .chart-label (13px Noto Sans) in chart units, a little generous.
LABEL_CHAR_WIDTH = 8
LABEL_GAP = 12


def _number(value: float) -> str:
    return format_decimal(value)


def _share(value: float, total: float) -> str:
    return format_percent(value / total if total else 0, "#,##0.0%")


def _table(chart_id: str, title: str, headers: Sequence[str], rows: Sequence[Sequence]) -> Markup:
    numeric = ' class="num"'
    head = "".join(f'<th scope="col"{numeric if i else ""}>{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f'<td class="num">{escape(cell)}</td>' for cell in row[1:]) + "</tr>"
        for row in rows
    )
    # Outside the f-string, so that extraction finds the message.
    caption = escape(_("Figures: %(title)s", title=title))
    return Markup(  # nosec B704 # every value in it is escaped
        f'<div class="table-wrap chart-table" tabindex="0" role="region" '
        f'aria-labelledby="{chart_id}-table-caption"><table>'
        f'<caption id="{chart_id}-table-caption">{caption}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _figure(chart_id: str, title: str, svg: str, table: Markup,
            labelled_by: str | None) -> Markup:
    """The chart and its table; captioned with the title unless ``labelled_by`` names the id
    of a heading on the page that already says it."""
    caption = ("" if labelled_by else
               f'<figcaption id="{chart_id}-caption">{escape(title)}</figcaption>')
    return Markup(  # nosec B704 # title escaped, svg and table built escaped
        f'<figure class="chart" id="{chart_id}" '
        f'aria-labelledby="{escape(labelled_by or chart_id + "-caption")}">'
        f"{caption}{_scroll_box(chart_id, svg)}{table}</figure>"
    )


def _scroll_box(chart_id: str, svg: str) -> str:
    # Focusable, so that a keyboard can scroll it where the chart is wider than the screen.
    return (f'<div class="chart-scroll" tabindex="0" role="region" '
            f'aria-labelledby="{chart_id}-title">{svg}</div>')


def _svg_open(chart_id: str, title: str, description: str, width: int, height: int) -> str:
    # Drawn left to right in every language, as days run on their axis: on a right-to-left
    # page the text anchors would otherwise flip and push labels off the chart.
    return (
        f'<svg class="chart-svg" role="img" viewBox="0 0 {width} {height}" direction="ltr" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def _describe(items: Sequence[Item], total: float) -> str:
    if not items or not total:
        return _("No data in this period.")
    label, value = max(items, key=lambda item: item[1])
    return ngettext("%(num)d item, %(total)s in all; the largest is %(label)s with %(value)s.",
                    "%(num)d items, %(total)s in all; the largest is %(label)s with %(value)s.",
                    len(items), total=_number(total), label=label, value=_number(value))


def bar_chart(chart_id: str, title: str, items: Sequence[Item], *,
              value_header: str | None = None, label_header: str | None = None,
              show_share: bool = True, labelled_by: str | None = None) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; values ≥ 0."""
    total = sum(value for _label, value in items)
    top = max((value for _label, value in items), default=0) or 1
    row, label_width, bar_width, width = 28, 170, 330, 600
    height = max(row, row * len(items)) + 8
    parts = [_svg_open(chart_id, title, _describe(items, total), width, height)]
    for index, (label, value) in enumerate(items):
        y = 4 + index * row
        length = bar_width * value / top
        parts.append(
            f'<g><text class="chart-label" x="{label_width - 8}" y="{y + 18}" '
            f'text-anchor="end">{escape(_truncate(label, 24))}</text>'
            f'<rect class="chart-c{index % COLOURS}" x="{label_width}" y="{y + 4}" '
            f'width="{length:.1f}" height="{row - 8}"><title>{escape(label)}: '
            f'{escape(_number(value))}</title></rect>'
            f'<text class="chart-value" x="{label_width + length + 6:.1f}" y="{y + 18}">'
            f"{escape(_number(value))}</text></g>"
        )
    parts.append("</svg>")
    headers = [label_header or _("Item"), value_header or _("Count")]
    if show_share:
        headers.append(_("Share"))
    rows = [[label, _number(value)] + ([_share(value, total)] if show_share else [])
            for label, value in items]
    return _figure(chart_id, title, "".join(parts), _table(chart_id, title, headers, rows),
                   labelled_by)


def percentage_bar(chart_id: str, title: str, items: Sequence[Item], *,
                   label_header: str | None = None, labelled_by: str | None = None) -> Markup:
    """One bar split into the share of each (label, value), with a legend giving each share."""
    total = sum(value for _label, value in items)
    width, bar_height, legend_row = 600, 36, 24
    height = bar_height + 16 + legend_row * ((len(items) + 1) // 2) + 8
    parts = [_svg_open(chart_id, title, _describe(items, total), width, height)]
    x = 0.0
    for index, (label, value) in enumerate(items):
        length = width * value / total if total else 0
        parts.append(
            f'<rect class="chart-c{index % COLOURS} chart-segment" x="{x:.1f}" y="0" '
            f'width="{length:.1f}" height="{bar_height}"><title>{escape(label)}: '
            f"{escape(_share(value, total))}</title></rect>"
        )
        x += length
    for index, (label, value) in enumerate(items):
        column, line = index % 2, index // 2
        lx, ly = column * width / 2, bar_height + 16 + line * legend_row
        parts.append(
            f'<rect class="chart-c{index % COLOURS}" x="{lx:.0f}" y="{ly:.0f}" width="14" '
            f'height="14"/><text class="chart-label" x="{lx + 20:.0f}" y="{ly + 12:.0f}">'
            # Each part isolated: in Arabic the "%" of the share went over to the label.
            f"\u2068{escape(_truncate(label, 26))}\u2069 "
            f"\u2066{escape(_share(value, total))}\u2069</text>"
        )
    parts.append("</svg>")
    rows = [[label, _number(value), _share(value, total)] for label, value in items]
    headers = [label_header or _("Item"), _("Count"), _("Share")]
    return _figure(chart_id, title, "".join(parts), _table(chart_id, title, headers, rows),
                   labelled_by)


def column_chart(chart_id: str, title: str, items: Sequence[Item], *,
                 label_header: str | None = None, value_header: str | None = None,
                 tick: Callable[[int, str], bool] | None = None,
                 labelled_by: str | None = None) -> Markup:
    """Vertical columns for a series in time order (e.g. per day); every n-th label shown,
    as many as fit."""
    total = sum(value for _label, value in items)
    peak = max((value for _label, value in items), default=0)
    top = peak or 1
    width, plot_height, base = 600, 160, 20
    count = max(1, len(items))
    step = width / count
    parts = [_svg_open(chart_id, title, _describe(items, total), width, plot_height + base + 24)]
    parts.append(f'<text class="chart-value" x="0" y="12">{escape(_number(peak))}</text>'
                 f'<line class="chart-axis" x1="0" x2="{width}" y1="{plot_height + base}" '
                 f'y2="{plot_height + base}"/>')
    for index, (label, value) in enumerate(items):
        h = plot_height * value / top
        x = index * step
        parts.append(
            f'<rect class="chart-c0" x="{x + step * 0.1:.1f}" y="{plot_height + base - h:.1f}" '
            f'width="{step * 0.8:.1f}" height="{h:.1f}"><title>{escape(label)}: '
            f"{escape(_number(value))}</title></rect>"
        )
    labels = [label for label, _value in items]
    parts += _x_labels(labels, 0, step, width, plot_height + base + 18, tick)
    parts.append("</svg>")
    rows = [[label, _number(value)] for label, value in items]
    headers = [label_header or _("Item"), value_header or _("Count")]
    return _figure(chart_id, title, "".join(parts), _table(chart_id, title, headers, rows),
                   labelled_by)


def grouped_columns(chart_id: str, title: str, groups: Sequence[str], series: Sequence[str],
                    values: Sequence[Sequence[float | None]], *, stacked: bool,
                    integers: bool = True, number: Callable[[float], str] = _number) -> Markup:
    """Columns per group in time order (e.g. per week), one per series side by side or stacked,
    on a scale of 1, 2 or 5 × 10ⁿ steps, with a legend when there are several series.

    ``values[g][s]`` is series ``s`` in group ``g``; None draws nothing. The figures are left
    to the caller's own table.
    """
    if stacked:
        peak = max((sum(v or 0 for v in row) for row in values), default=0)
    else:
        peak = max((v or 0 for row in values for v in row), default=0)
    ceiling = nice_ceiling(peak)
    leading = round(ceiling / 10 ** math.floor(math.log10(ceiling)))
    steps = {1: 5, 2: 4, 5: 5, 10: 5}[leading]
    if integers and ceiling < steps:
        steps = int(ceiling)
    scale_labels = [number(ceiling * i / steps) for i in range(steps + 1)]
    width, height = 600, 260
    left = max(len(label) for label in scale_labels) * LABEL_CHAR_WIDTH + 10
    top, bottom = 12.0, height - 28.0
    scale = (bottom - top) / ceiling
    description = _("Bar chart; the table below lists the same numbers.")
    parts = [_svg_open(chart_id, title, description, width, height)]
    for i, label in enumerate(scale_labels):
        y = bottom - ceiling * i / steps * scale
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-label" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
    slot = (width - left) / max(len(groups), 1)
    bar_width = slot * 0.7 if stacked else slot * 0.8 / max(len(series), 1)
    for g, (group, row) in enumerate(zip(groups, values, strict=True)):
        base = bottom
        x0 = left + g * slot + slot * (0.15 if stacked else 0.1)
        for s, value in enumerate(row):
            if not value:
                continue
            h = value * scale
            x = x0 if stacked else x0 + s * bar_width
            y = base - h if stacked else bottom - h
            parts.append(
                f'<rect class="chart-c{s % COLOURS} chart-segment" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar_width:.1f}" height="{h:.1f}"><title>{escape(group)}, '
                f"{escape(series[s])}: {escape(number(value))}</title></rect>"
            )
            if stacked:
                base -= h
    parts.append(f'<line class="chart-axis" x1="{left}" x2="{width}" y1="{bottom}" '
                 f'y2="{bottom}"/>')
    parts += _x_labels(groups, left, slot, width, bottom + 18)
    parts.append("</svg>")
    legend = ""
    if len(series) > 1:
        legend = '<ul class="chart-legend" aria-hidden="true">' + "".join(
            f'<li><svg width="14" height="14" viewBox="0 0 14 14">'
            f'<rect class="chart-c{i % COLOURS}" width="14" height="14"/></svg> '
            f"{escape(label)}</li>" for i, label in enumerate(series)
        ) + "</ul>"
    chart = _scroll_box(chart_id, "".join(parts)) + legend
    return Markup(chart)  # nosec B704 # every part built escaped


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ that is at least ``value`` (1 for nothing to show)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _x_labels(labels: Sequence[str], start: float, step: float, end: float, y: float,
              tick: Callable[[int, str], bool] | None = None) -> list[str]:
    """Labels under columns ``step`` wide from ``start``: every n-th, as many as fit.

    Each is centred under its column, unless that would run past an edge of the chart, and
    left out where it would touch the label before it. Without ``tick`` the n is chosen so
    that the second label clears the first, which starts at the left edge.
    """
    widest = max((len(label) for label in labels), default=0) * LABEL_CHAR_WIDTH
    every = max(1, math.ceil((1.5 * widest + LABEL_GAP - step / 2) / step))
    parts = []
    label_end = start  # where the last label drawn ends, with its gap
    for index, label in enumerate(labels):
        if not (tick(index, label) if tick else index % every == 0):
            continue
        at, anchor, size = start + (index + 0.5) * step, "middle", len(label) * LABEL_CHAR_WIDTH
        left = min(max(at - size / 2, start), end - size)
        if left < label_end:
            continue
        if left == start:
            at, anchor = start, "start"
        elif left == end - size:
            at, anchor = end, "end"
        label_end = left + size + LABEL_GAP
        parts.append(f'<text class="chart-label" x="{at:.1f}" y="{y}" text-anchor="{anchor}">'
                     f"{escape(label)}</text>")
    return parts


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
