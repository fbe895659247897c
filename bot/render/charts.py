"""Balance charts as PNG bytes: a matplotlib ``Figure`` on Agg, never pyplot.

pyplot keeps global state and is not thread-safe; a bare ``Figure`` with its
own Agg canvas is neither. Drawing takes tens of milliseconds, so the bot
draws in one worker thread (``render_chart``) and the event loop keeps
answering meanwhile; one thread is enough and keeps matplotlib's font cache
and text layout single-threaded.

Colours are the Okabe-Ito palette, which people with any common colour-vision
deficiency can tell apart; nothing relies on colour alone (targets differ by
line style, unstated categories and breaches by hatching), and every bar is
labelled with its number.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bot.render.text import plain
from bot.services.balance import (
    BalanceReport,
    Dimension,
    FunnelReport,
    FunnelStage,
    TargetLine,
    pct,
)

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: Final = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
DIMENSION_COLOURS: Final = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["yellow"],
)
STAGE_COLOURS: Final = (
    OKABE_ITO["sky_blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
)
UNSTATED_COLOUR: Final = "#BBBBBB"
LINE_STYLES: Final[dict[str, Any]] = {"max": "--", "min": ":", "equal": "-."}
# Long names shortened on the chart only; the embed beside it spells them out.
SHORT_NAMES: Final = {
    "African Group": "African",
    "Asia-Pacific Group": "Asia-Pacific",
    "Eastern European Group": "Eastern European",
    "Latin American and Caribbean Group (GRULAC)": "GRULAC",
    "Western European and Others Group (WEOG)": "WEOG",
    "Intergovernmental Organization": "IGO",
    "Prefer not to say": "Prefer not to say",
}
MAX_LABEL: Final = 24
DPI: Final = 100

# Category names come from people (a server's own stakeholder groups, subthemes):
# "$...$" in them is text, never matplotlib's math notation (which could fail to parse).
matplotlib.rcParams["text.parse_math"] = False

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magbot-charts")


async def render_chart(report: BalanceReport | FunnelReport) -> bytes:
    """Return the report's chart as PNG bytes, drawn in the chart thread."""
    loop = asyncio.get_running_loop()
    if isinstance(report, FunnelReport):
        return await loop.run_in_executor(_executor, draw_funnel, report)
    return await loop.run_in_executor(_executor, draw_balance, report)


def short(name: str) -> str:
    """Return a category's name as the chart prints it."""
    return plain(SHORT_NAMES.get(name, name), MAX_LABEL)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Light compression: level 6 (the default) took 0.13 s of each chart for a
    # file only 10% smaller.
    FigureCanvasAgg(figure).print_png(buffer, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


# Layout in inches, fixed: matplotlib's automatic layouts measure every text
# several times and took most of the drawing time (0.8 s of 1 s for a chart).
LABEL_WIDTH: Final = 1.95  # room for a category name (at most MAX_LABEL characters)
AXES_WIDTH: Final = 4.6
RIGHT: Final = 0.25
TITLE_HEIGHT: Final = 1.25
LEGEND_HEIGHT: Final = 0.55
ROW_GAP: Final = 0.9  # a panel's title above, its axis label below
BAR_HEIGHT: Final = 0.42  # per category
TICKS: Final = range(0, 101, 20)


def _new_figure(
    columns: int, bars_per_row: Sequence[int], legend_rows: int = 1
) -> tuple[Figure, list[Axes]]:
    rows = len(bars_per_row)
    heights = [BAR_HEIGHT * max(2, bars) + 0.3 for bars in bars_per_row]
    width = columns * (LABEL_WIDTH + AXES_WIDTH) + RIGHT
    legend = LEGEND_HEIGHT * legend_rows
    height = TITLE_HEIGHT + legend + sum(heights) + (rows - 1) * ROW_GAP + 0.45
    figure = Figure(figsize=(width, height), dpi=DPI)
    grid = figure.add_gridspec(
        rows,
        columns,
        left=LABEL_WIDTH / width,
        right=1 - RIGHT / width,
        top=1 - TITLE_HEIGHT / height,
        bottom=(legend + 0.45) / height,
        wspace=LABEL_WIDTH / AXES_WIDTH,
        hspace=ROW_GAP / (sum(heights) / rows),
        height_ratios=heights,
    )
    axes = [figure.add_subplot(grid[r, c]) for r in range(rows) for c in range(columns)]
    return figure, axes


def _title(figure: Figure, text: str) -> None:
    height = figure.get_figheight()
    figure.suptitle(text, y=1 - 0.12 / height, va="top", fontsize=14, fontweight="bold")


def _x_axis(axes: Axes, bars: Sequence[tuple[float, str]], lines: Sequence[float] = ()) -> None:
    """Set the x axis in percent, far enough for each bar's label (share, text) to fit."""
    end = max([60.0, *(share * 100 + 5 for share in lines)])
    for share, label in bars:
        # A character of a 9-point label is about 0.075 inch wide.
        width = min(0.8, (len(label) * 0.075 + 0.15) / AXES_WIDTH)
        end = max(end, share * 100 / (1 - width))
    axes.set_xlim(0, end)
    axes.set_xticks(list(TICKS), [f"{t}" for t in TICKS], fontsize=9)
    axes.set_xlabel("share of seats (%)", fontsize=9)
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    axes.set_axisbelow(True)


def _breaches(dimension: Dimension, lines: Sequence[TargetLine]) -> set[str]:
    over = set()
    for line in lines:
        if line.kind != "max":
            continue
        for category in dimension.categories:
            applies = line.category in (None, category.name)
            if category.stated and applies and category.share > line.share:
                over.add(category.name)
    return over


def bar_label(seats: int, people: int | None, share: float) -> str:
    """Return the text beside a bar: share, seats, and people where they differ."""
    if seats == 0:
        return "nobody"
    if people is not None and people != seats:
        who = "1 person" if people == 1 else f"{people} people"
        return f"{pct(share)} · {seats} seats, {who}"
    return f"{pct(share)} · {seats}"


def _bars(axes: Axes, dimension: Dimension, colour: str, lines: Sequence[TargetLine]) -> None:
    categories = dimension.categories
    positions = list(range(len(categories)))
    over = _breaches(dimension, lines)
    bars = axes.barh(
        positions,
        [c.share * 100 for c in categories],
        color=[colour if c.stated else UNSTATED_COLOUR for c in categories],
        edgecolor="black",
        linewidth=0.6,
        height=0.7,
    )
    labels = [bar_label(c.seats, c.people, c.share) for c in categories]
    for bar, category, label in zip(bars, categories, labels, strict=True):
        if not category.stated:
            bar.set_hatch("//")
        elif category.name in over:
            bar.set_hatch("xx")
            bar.set_linewidth(1.6)
        axes.text(
            bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
            label, va="center", fontsize=9,
        )  # fmt: skip
    axes.set_yticks(positions, [short(c.name) for c in categories], fontsize=10)
    axes.set_ylim(len(categories) - 0.5, -0.5)  # first category on top
    shares = [c.share for c in categories]
    _x_axis(axes, list(zip(shares, labels, strict=True)), [line.share for line in lines])
    names = [c.name for c in categories]
    for line in lines:
        style = LINE_STYLES[line.kind]
        if line.category is None:
            axes.axvline(line.share * 100, color="black", linestyle=style, linewidth=1.4)
        elif line.category in names:
            y = names.index(line.category)
            axes.vlines(
                line.share * 100, y - 0.45, y + 0.45, colors="black", linestyles=style,
                linewidth=1.6,
            )  # fmt: skip
    evenness = dimension.evenness
    shown = "–" if evenness is None else f"{evenness:.2f}"
    axes.set_title(f"{dimension.label}  ·  evenness {shown}", fontsize=12, loc="left")


def _legend(
    figure: Figure, kinds: set[str], *, unstated: bool, breaches: bool, per_row: int
) -> None:
    handles: list[Any] = []
    names = {"max": "ceiling (at most)", "min": "floor (at least)", "equal": "equal share"}
    for kind in ("max", "min", "equal"):
        if kind in kinds:
            handles.append(
                Line2D([], [], color="black", linestyle=LINE_STYLES[kind], label=names[kind])
            )
    if breaches:
        handles.append(
            Patch(facecolor="white", edgecolor="black", hatch="xx", label="over its ceiling")
        )
    if unstated:
        handles.append(
            Patch(
                facecolor=UNSTATED_COLOUR,
                edgecolor="black",
                hatch="//",
                label="not stated / prefer not to say",
            )
        )
    if handles:
        figure.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.12 / figure.get_figheight()),
            ncols=min(per_row, len(handles)),
            fontsize=10,
            frameon=False,
        )


def draw_balance(report: BalanceReport) -> bytes:
    """Return a PNG with one bar panel per dimension, target lines drawn."""
    dimensions = report.dimensions
    columns = 2 if len(dimensions) > 3 else 1
    sizes = [len(d.categories) for d in dimensions]
    rows = [max(sizes[i : i + columns]) for i in range(0, len(sizes), columns)]
    # One column is too narrow for the legend on one line: two entries a line.
    per_row = 4 if columns > 1 else 2
    figure, axes = _new_figure(columns, rows, legend_rows=4 // per_row)
    kinds: set[str] = set()
    breaches = False
    for index, dimension in enumerate(dimensions):
        lines = [line for line in report.targets if line.dimension == dimension.key]
        kinds |= {line.kind for line in lines}
        breaches = breaches or bool(_breaches(dimension, lines))
        _bars(axes[index], dimension, DIMENSION_COLOURS[index % len(DIMENSION_COLOURS)], lines)
    for spare in axes[len(dimensions) :]:
        spare.set_axis_off()
    unstated = any(not c.stated and c.seats for d in dimensions for c in d.categories)
    _legend(figure, kinds, unstated=unstated, breaches=breaches, per_row=per_row)
    people = f", {report.people} people" if report.people != report.seats else ""
    _title(figure, f"{report.scope.title}\n{report.seats} seats{people}")
    return _png(figure)


def _stages(
    axes: Axes, key: str, stages: Sequence[FunnelStage], flagged: set[tuple[str, str]]
) -> None:
    reports = [stage.report for stage in stages]
    names = [c.name for c in reports[0].dimension(key).categories]
    height = 0.8 / len(stages)
    everything: list[tuple[float, str]] = []
    for index, (stage, report) in enumerate(zip(stages, reports, strict=True)):
        shares = [report.dimension(key).share_of(name) * 100 for name in names]
        everything += [(share / 100, f"{share:.0f}%") for share in shares]
        positions = [y - 0.4 + height * (index + 0.5) for y in range(len(names))]
        axes.barh(
            positions, shares, height=height, color=STAGE_COLOURS[index % len(STAGE_COLOURS)],
            edgecolor="black", linewidth=0.5, label=f"{stage.label} ({report.seats})",
        )  # fmt: skip
        for y, share in zip(positions, shares, strict=True):
            axes.text(share + 0.8, y, f"{share:.0f}%", va="center", fontsize=8)
    labels = [short(name) + ("  ▼" if (key, name) in flagged else "") for name in names]
    axes.set_yticks(range(len(names)), labels, fontsize=10)
    axes.set_ylim(len(names) - 0.5, -0.5)
    _x_axis(axes, everything)
    axes.set_title(reports[0].dimension(key).label, fontsize=12, loc="left")
    axes.legend(fontsize=8, loc="lower right")


FUNNEL_DIMENSIONS: Final = ("stakeholder_group", "region", "gender")


def draw_funnel(funnel: FunnelReport) -> bytes:
    """Return a PNG: shares per stage, nominations above, selection below; drops marked ▼."""
    flagged = [
        {(flag.dimension, flag.category) for flag in flags}
        for flags in (funnel.nomination_flags, funnel.selection_flags)
    ]
    present = {d.key for d in funnel.nominations[0].report.dimensions}
    keys = [key for key in FUNNEL_DIMENSIONS if key in present]
    tallest = max(
        len(stage.report.dimension(key).categories)
        for stage in (*funnel.nominations, *funnel.selection)
        for key in keys
    )
    figure, axes = _new_figure(len(keys), [tallest + 2, tallest + 1])
    for row, stages in enumerate((funnel.nominations, funnel.selection)):
        for column, key in enumerate(keys):
            _stages(axes[row * len(keys) + column], key, stages, flagged[row])
    _title(
        figure,
        f"{funnel.scope.title}\n▼ share falls more than {funnel.drop_points:g} points",
    )
    return _png(figure)
