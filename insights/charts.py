"""Bar charts drawn on the server as SVG: geometry only, colours and type from static CSS (the
Content Security Policy allows no inline style). Each chart has a <title> and a <desc>, and the
page shows the same figures in a table below it."""

from dataclasses import dataclass

from .figures import FEWER, SUPPRESS_BELOW


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: object  # the figure as the table shows it ("fewer than 5" in a trust view)
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    bars: list
    horizontal: bool
    axis_y: float = 0


def _shown(value: int, suppress: bool):
    return FEWER if suppress and 0 < value < SUPPRESS_BELOW else value


def column_chart(*, id, title, points, suppress, width=720, height=220) -> Chart:
    """Vertical bars, e.g. visits per week. A suppressed figure draws no bar."""
    top, bottom = 16, 40
    usable = height - top - bottom
    peak = max([v for _, v in points if not _suppressed(v, suppress)] + [1])
    step = width / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        drawn = 0 if _suppressed(value, suppress) else value
        h = usable * drawn / peak
        x = i * step + step * 0.15
        bars.append(
            Bar(
                label=label,
                value=value,
                shown=_shown(value, suppress),
                x=round(x, 1),
                y=round(top + usable - h, 1),
                width=round(step * 0.7, 1),
                height=round(h, 1),
                text_x=round(x + step * 0.35, 1),
                text_y=height - bottom + 16,
            )
        )
    desc = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "No figures."
    return Chart(id, title, desc, width, height, bars, False, axis_y=top + usable)


def bar_chart(*, id, title, points, suppress, width=720, row=28) -> Chart:
    """Horizontal bars with their labels, e.g. visits by reason."""
    label_width, right = 300, 90
    usable = width - label_width - right
    peak = max([v for _, v in points if not _suppressed(v, suppress)] + [1])
    bars = []
    for i, (label, value) in enumerate(points):
        drawn = 0 if _suppressed(value, suppress) else value
        w = usable * drawn / peak
        y = i * row + 6
        bars.append(
            Bar(
                label=label,
                value=value,
                shown=_shown(value, suppress),
                x=label_width,
                y=y,
                width=round(w, 1),
                height=row - 10,
                text_x=round(label_width + w + 6, 1),
                text_y=y + row - 14,
            )
        )
    desc = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "No figures."
    return Chart(id, title, desc, width, max(len(bars), 1) * row + 6, bars, True)


def _suppressed(value: int, suppress: bool) -> bool:
    return suppress and 0 < value < SUPPRESS_BELOW
