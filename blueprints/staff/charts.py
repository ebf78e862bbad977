"""Bar charts as geometry for server-rendered SVG (no JavaScript chart library).

``bar_chart`` lays out groups of bars, stacked or side by side; templates/staff/_chart.html
draws the result. Every chart has a data table next to it, which is also what screen readers
and CSV exports use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str  # what a pointer hover shows: "<group>, <series>: <value>"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[str]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ that is at least ``value`` (1 for nothing to show)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def bar_chart(
    groups: Sequence[str],
    series: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    stacked: bool,
    integers: bool = True,
    number: Callable[[float], str] = lambda v: f"{v:g}",
    width: int = 640,
    height: int = 260,
) -> BarChart:
    """``values[g][s]`` is the value of series ``s`` in group ``g``; None draws nothing."""
    left, top, right, bottom = 48.0, 12.0, width - 8.0, height - 40.0
    if stacked:
        peak = max((sum(v or 0 for v in row) for row in values), default=0)
    else:
        peak = max((v or 0 for row in values for v in row), default=0)
    ceiling = nice_ceiling(peak)
    scale = (bottom - top) / ceiling

    slot = (right - left) / max(len(groups), 1)
    bar_width = slot * 0.7 if stacked else slot * 0.8 / max(len(series), 1)
    bars = []
    for g, (group, row) in enumerate(zip(groups, values, strict=True)):
        base = bottom
        x0 = left + g * slot + slot * (0.15 if stacked else 0.1)
        for s, value in enumerate(row):
            if not value:
                continue
            h = value * scale
            x = x0 if stacked else x0 + s * bar_width
            y = base - h if stacked else bottom - h
            bars.append(Bar(round(x, 1), round(y, 1), round(bar_width, 1), round(h, 1), s,
                            f"{group}, {series[s]}: {number(value)}"))
            if stacked:
                base -= h

    # Every label when they fit, else every second or third so they never overlap.
    every = max(1, math.ceil(len(groups) / 13))
    x_ticks = [Tick(round(left + (g + 0.5) * slot, 1), label)
               for g, label in enumerate(groups) if g % every == 0]
    # Steps of 1, 2 or 5 × 10ⁿ; whole steps for counts.
    leading = round(ceiling / 10 ** math.floor(math.log10(ceiling)))
    steps = {1: 5, 2: 4, 5: 5, 10: 5}[leading]
    if integers and ceiling < steps:
        steps = int(ceiling)
    y_ticks = [Tick(round(bottom - ceiling * i / steps * scale, 1), number(ceiling * i / steps))
               for i in range(steps + 1)]
    return BarChart(width, height, left, top, right, bottom, bars, x_ticks, y_ticks,
                    list(series))
