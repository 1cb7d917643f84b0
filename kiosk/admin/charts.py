"""The statistics page's charts, drawn on the server: this module turns counts into shapes with coordinates, and
templates/admin/statistics.html writes them out as inline SVG.

No script and no style attribute (the CSP allows neither, kiosk/headers.py): colours are SVG presentation
attributes, and every label goes through Jinja's autoescaping. Each chart is WIDTH units across and scales to the
width of the page; its text is in the same units. A count above zero is never drawn thinner than MIN_BAR, however
large the biggest count is.

Labels and summaries are in the admin's language (the "admin" gettext domain), numbers and short dates in its
conventions; the charts are built per request. Outside a request they are in English.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from flask_babel import get_locale

from kiosk.admin.stats import DAYS, SMS_STATUSES, Count, Figures, SmsDay
from kiosk.i18n import admin_gettext as _a
from kiosk.i18n import admin_lazy_gettext as _la
from kiosk.i18n import admin_ngettext as _na

WIDTH = 720
PLOT_HEIGHT = 200  # the bars' area in a column chart
ROW_HEIGHT = 28  # one bar of a row chart, with its gap
BAR_SHARE = 0.7  # of a column's or row's band; the rest is the gap
FONT_SIZE = 12
CHAR_WIDTH = 7.2  # a generous average character width at FONT_SIZE: the room a label needs
GAP = 6  # between an axis and its labels
MIN_BAR = 1.5
MAX_TICKS = 5
MAX_LABELS = 8  # along the bottom of a column chart; the others are in the tooltips and the table
MAX_LABEL_CHARS = 28  # of a row chart's labels; the table has the rest
LEGEND_HEIGHT = 24

# Against the white chart panel: text 7:1 or more, bars 3:1 or more (WCAG 1.4.3 and 1.4.11).
BACKGROUND = "#ffffff"
INK = "#1b1f24"
MUTED = "#4a5360"
GRID = "#c9d0d8"  # decoration only: the tick labels say the same
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # English short days


@dataclass(frozen=True)
class Series:
    """One kind of count in a chart. A pattern ("stripes", "crosshatch", "dots"; "" for solid) tells the SMS statuses
    apart without their colour."""

    key: str
    label: str  # lazy: in the admin's language when it is shown
    colour: str
    pattern: str = ""


COUNT = Series("count", _la("Count"), "#0b5cad")
SMS_SERIES = {
    # Translators: the status of a text message, as a column heading and in a chart's legend.
    "sent": Series("sent", _la("Sent"), "#0b5cad", "stripes"),
    "delivered": Series("delivered", _la("Delivered"), "#1e6b34"),
    "failed": Series("failed", _la("Failed"), "#b3261e", "crosshatch"),
    "undelivered": Series("undelivered", _la("Undelivered"), "#8a4600", "dots"),
}


@dataclass(frozen=True)
class Rect:
    """A bar, a segment of a stacked bar or a legend swatch; `title` is its tooltip ("" for none)."""

    x: float
    y: float
    width: float
    height: float
    fill: str  # a colour, or url(#id) of a pattern in the chart's <defs>
    stroke: str
    title: str = ""
    value: int = 0


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    anchor: str  # SVG text-anchor: start, middle or end
    fill: str = INK


@dataclass(frozen=True)
class Box:
    """The plot area: where the bars may go."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Chart:
    id: str  # prefix of the ids inside the SVG; unique on the page
    summary: str  # one sentence that says what the chart shows, or that there is nothing to show
    total: int
    width: float
    height: float
    plot: Box
    ticks: tuple[int, ...]  # the value axis, 0 to its top, in nice round steps
    bars: tuple[Rect, ...]  # and segments of stacked bars; none for a count of 0
    lines: tuple[Line, ...]  # the axis and the grid
    texts: tuple[Text, ...]  # tick labels, bar labels, counts, legend labels
    legend: tuple[Rect, ...]  # swatches, when there is more than one series
    patterns: tuple[Series, ...]  # the patterned series, for the chart's <defs>
    font_size: int = FONT_SIZE

    @property
    def empty(self) -> bool:
        return self.total == 0


@dataclass(frozen=True)
class StatisticsCharts:
    per_day: Chart
    per_hour: Chart
    sms: Chart
    refusals: Chart


# Scales


def nice_step(peak: int, max_ticks: int = MAX_TICKS) -> int:
    """The smallest whole step of 1, 2 or 5 times a power of ten that reaches `peak` in at most `max_ticks` steps."""
    if peak <= max_ticks:
        return 1
    raw = -(-peak // max_ticks)  # ceil(peak / max_ticks), in integers: no rounding error at any size
    magnitude = 10 ** (len(str(raw)) - 1)
    return next(step for step in (magnitude, 2 * magnitude, 5 * magnitude, 10 * magnitude) if step >= raw)


def nice_ticks(peak: int, max_ticks: int = MAX_TICKS) -> tuple[int, ...]:
    """0, step, 2 × step, … up to the first tick at or above `peak` (at least one step, so zero data has an axis)."""
    step = nice_step(max(peak, 1), max_ticks)
    top = max(1, -(-peak // step)) * step
    return tuple(range(0, top + 1, step))


def _locale() -> Locale:
    """The page's language (the admin's on admin pages), English outside a request."""
    return get_locale() or Locale("en")


def number(value: int) -> str:
    """1,234 in English, 1 234 in the Nordic languages."""
    return format_decimal(value, locale=_locale())


def _scaled(value: int, top: int, length: float) -> float:
    """The length of a bar for `value` on an axis whose top is `top`: at least MIN_BAR when the value is not 0."""
    if value <= 0:
        return 0.0
    return max(MIN_BAR, value / top * length)


def _stack(values: Sequence[int], top: int, length: float) -> list[float]:
    """The lengths of a stack's segments. The stack is as long as its total; a thin segment that was widened to
    MIN_BAR takes its room from the longest one, so a full stack never leaves the plot."""
    lengths = [_scaled(value, top, length) for value in values]
    whole = max(sum(values) / top * length, MIN_BAR * sum(1 for value in values if value > 0))
    excess = sum(lengths) - whole
    if excess > 0:
        longest = lengths.index(max(lengths))
        lengths[longest] -= excess
    return lengths


def _r(value: float) -> float:
    return round(value, 2)


def _fill(chart_id: str, series: Series) -> str:
    return f"url(#{chart_id}-{series.key})" if series.pattern else series.colour


def _label_every(count: int, max_labels: int = MAX_LABELS) -> int:
    return max(1, -(-count // max_labels))


def _text_width(text: str) -> float:
    return CHAR_WIDTH * len(text)


def _clip(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# Charts


def columns(chart_id: str, labels: Sequence[str], values: Sequence[Mapping[str, int]], series: Sequence[Series], *,
            summary: str, short_label: Callable[[str], str] = str, label_last: bool = True) -> Chart:
    """Vertical bars, one per label, stacked by series (a legend on top when there is more than one), oldest or
    first on the left. At most MAX_LABELS labels show under their bars, evenly spaced and counted from the last bar
    (today) or, without `label_last`, from the first (00:00)."""
    totals = [sum(value.get(s.key, 0) for s in series) for value in values]
    ticks = nice_ticks(max(totals, default=0))
    top_value = ticks[-1]
    left = _r(2 * GAP + max(_text_width(number(tick)) for tick in ticks))
    top = FONT_SIZE + (LEGEND_HEIGHT if len(series) > 1 else 0)
    plot = Box(left, top, WIDTH - 3 * GAP, top + PLOT_HEIGHT)  # room for half the last label
    height = plot.bottom + GAP + FONT_SIZE + GAP
    bars: list[Rect] = []
    lines: list[Line] = []
    texts: list[Text] = []
    for tick in ticks:
        y = _r(plot.bottom - tick / top_value * PLOT_HEIGHT)
        lines.append(Line(plot.left, y, plot.right, y, INK if tick == 0 else GRID))
        texts.append(Text(_r(plot.left - GAP), _r(y + FONT_SIZE * 0.35), number(tick), "end", MUTED))
    band = (plot.right - plot.left) / max(len(labels), 1)
    every = _label_every(len(labels))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = plot.left + index * band + band * (1 - BAR_SHARE) / 2
        lengths = _stack([value.get(s.key, 0) for s in series], top_value, PLOT_HEIGHT)
        y = plot.bottom
        for s, length in zip(series, lengths, strict=True):
            if length <= 0:
                continue
            y -= length
            title = f"{label}: {number(value[s.key])}" if len(series) == 1 else \
                f"{label}, {str(s.label).lower()}: {number(value[s.key])}"
            bars.append(Rect(_r(x), _r(y), _r(band * BAR_SHARE), _r(length), _fill(chart_id, s), s.colour, title,
                             value[s.key]))
        if (len(labels) - 1 - index if label_last else index) % every == 0:
            texts.append(Text(_r(x + band * BAR_SHARE / 2), plot.bottom + GAP + FONT_SIZE, short_label(label),
                              "middle", MUTED))
    legend: list[Rect] = []
    if len(series) > 1:
        legend, legend_texts = _legend(chart_id, series, plot.left)
        texts += legend_texts
    return Chart(chart_id, summary, sum(totals), WIDTH, height, plot, ticks, tuple(bars), tuple(lines),
                 tuple(texts), tuple(legend), tuple(s for s in series if s.pattern))


def _legend(chart_id: str, series: Sequence[Series], left: float) -> tuple[list[Rect], list[Text]]:
    """A swatch and a name for each series, in a row above the plot."""
    rects: list[Rect] = []
    texts: list[Text] = []
    x, size = left, FONT_SIZE
    for s in series:
        rects.append(Rect(_r(x), 2, size, size, _fill(chart_id, s), s.colour))
        label = str(s.label)
        texts.append(Text(_r(x + size + GAP), 2 + size * 0.85, label, "start"))
        x += size + GAP + _text_width(label) + 3 * GAP
    return rects, texts


def rows(chart_id: str, counts: Sequence[Count], *, summary: str) -> Chart:
    """Horizontal bars, one per label, in the order given, each with its count at its end."""
    ticks = nice_ticks(max((c.count for c in counts), default=0))
    top_value = ticks[-1]
    labels = [_clip(c.label) for c in counts]
    left = 2 * GAP + max((_text_width(label) for label in labels), default=0)
    value_room = 2 * GAP + max((_text_width(number(c.count)) for c in counts), default=0)  # a count after its bar
    tick_room = GAP + _text_width(number(top_value)) / 2  # the last tick label, centred on the plot's edge
    right = WIDTH - max(value_room, tick_room)
    plot = Box(_r(left), GAP, _r(right), GAP + ROW_HEIGHT * max(len(counts), 1))
    width = plot.right - plot.left
    height = plot.bottom + GAP + FONT_SIZE + GAP
    lines: list[Line] = [Line(plot.left, plot.top, plot.left, plot.bottom, INK)]
    texts: list[Text] = []
    bars: list[Rect] = []
    for tick in ticks:
        x = _r(plot.left + tick / top_value * width)
        if tick:
            lines.append(Line(x, plot.top, x, plot.bottom, GRID))
        texts.append(Text(x, plot.bottom + GAP + FONT_SIZE, number(tick), "middle", MUTED))
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        y = plot.top + index * ROW_HEIGHT + ROW_HEIGHT * (1 - BAR_SHARE) / 2
        middle = _r(plot.top + (index + 0.5) * ROW_HEIGHT + FONT_SIZE * 0.35)
        length = _scaled(count.count, top_value, width)
        texts.append(Text(_r(plot.left - GAP), middle, label, "end"))
        texts.append(Text(_r(plot.left + length + GAP), middle, number(count.count), "start"))
        if length:
            bars.append(Rect(plot.left, _r(y), _r(length), _r(ROW_HEIGHT * BAR_SHARE), COUNT.colour, COUNT.colour,
                              f"{count.label}: {number(count.count)}", count.count))
    total = sum(c.count for c in counts)
    return Chart(chart_id, summary, total, WIDTH, height, plot, ticks, tuple(bars), tuple(lines), tuple(texts), (),
                 ())


# The statistics page


def short_day(day: str) -> str:
    """2026-03-02 -> 2 Mar in English, 2. mars in Norwegian (the language's own short day and month)."""
    moment = date.fromisoformat(day)
    locale = _locale()
    if locale.language == "en":
        return f"{moment.day} {MONTHS[moment.month - 1]}"
    return format_skeleton("dMMM", moment, locale=locale)


def _busiest(counts: Sequence[Count]) -> Count:
    return max(counts, key=lambda c: c.count)  # the first of equals


def checkins_per_day(counts: Sequence[Count]) -> Chart:
    total = sum(c.count for c in counts)
    if total:
        busiest = _busiest(counts)
        summary = " ".join((
            _na("%(count)s check-in in the last %(days)d days.", "%(count)s check-ins in the last %(days)d days.",
                total, count=number(total), days=len(counts)),
            _a("The busiest day was %(day)s with %(count)s.", day=short_day(busiest.label),
               count=number(busiest.count))))
    else:
        summary = _a("No check-ins in the last %(days)d days.", days=len(counts))
    return columns("checkins-per-day-chart", [c.label for c in counts], [{"count": c.count} for c in counts],
                   [COUNT], summary=summary, short_label=short_day)


def checkins_per_hour(counts: Sequence[Count], days: int = DAYS) -> Chart:
    total = sum(c.count for c in counts)
    if total:
        busiest = _busiest(counts)
        summary = _na("The busiest hour of the day was %(hour)s, with %(count)s check-in in the last %(days)d days.",
                      "The busiest hour of the day was %(hour)s, with %(count)s check-ins in the last %(days)d days.",
                      busiest.count, hour=busiest.label, count=number(busiest.count), days=days)
    else:
        summary = _a("No check-ins in the last %(days)d days.", days=days)
    return columns("checkins-per-hour-chart", [c.label for c in counts], [{"count": c.count} for c in counts],
                   [COUNT], summary=summary, label_last=False)


def sms_per_day(days: Sequence[str], sms: Sequence[SmsDay]) -> Chart:
    """Stacked bars of text messages by status on each of `days`, a day without messages at 0."""
    by_day = {day.day: day.counts for day in sms}
    values = [by_day.get(day, {}) for day in days]
    series = [SMS_SERIES[status] for status in SMS_STATUSES]  # stacked in this order, from the bottom
    totals = {s.key: sum(value.get(s.key, 0) for value in values) for s in series}
    total = sum(totals.values())
    if total:
        # Translators: %(statuses)s is a list such as "1 sent, 5 delivered, 1 failed, 2 undelivered".
        summary = _na("%(count)s text message in the last %(days)d days: %(statuses)s.",
                      "%(count)s text messages in the last %(days)d days: %(statuses)s.", total, count=number(total),
                      days=len(days), statuses=", ".join(f"{number(count)} {str(SMS_SERIES[status].label).lower()}"
                                                         for status, count in totals.items()))
    else:
        summary = _a("No text messages in the last %(days)d days.", days=len(days))
    return columns("sms-per-day-chart", days, values, series, summary=summary, short_label=short_day)


def refusals(counts: Sequence[Count], days: int = DAYS) -> Chart:
    total = sum(c.count for c in counts)
    if total:
        # Translators: %(reason)s is a reason's code, such as too_fast; %(reason_count)s how often it was the reason.
        summary = _na("%(count)s check-in was refused in the last %(days)d days, most often for %(reason)s "
                      "(%(reason_count)s).",
                      "%(count)s check-ins were refused in the last %(days)d days, most often for %(reason)s "
                      "(%(reason_count)s).", total, count=number(total), days=days, reason=counts[0].label,
                      reason_count=number(counts[0].count))  # stats sorts by count, largest first
    else:
        summary = _a("No check-in was refused in the last %(days)d days.", days=days)
    return rows("refusals-chart", counts, summary=summary)


def for_statistics(figures: Figures) -> StatisticsCharts:
    """The four charts of /admin/statistics, from the counts kiosk.admin.stats gathers."""
    days = len(figures.per_day)
    return StatisticsCharts(checkins_per_day(figures.per_day), checkins_per_hour(figures.per_hour, days),
                            sms_per_day([c.label for c in figures.per_day], figures.sms),
                            refusals(figures.refusals, days))
