"""Balance charts as PNG bytes, drawn with Pillow in one worker thread.

Why Pillow and not matplotlib: a balance chart is a few dozen bars, lines and
labels on a fixed grid, and matplotlib spent about 0.6 s on each (its text
layout and glyph rendering were most of it); Pillow draws the same chart in
30–50 ms. Where the system has FriBiDi (Debian: ``libfribidi0``; Pillow's
wheels bring HarfBuzz and libraqm but load FriBiDi from the system), Pillow
lays text out with libraqm, so Arabic is shaped and written right to left;
without it Pillow falls back to its basic layout. The fonts ship with the
bot (``bot/render/fonts``).

Drawing still takes milliseconds, so the bot draws in one worker thread
(``render_chart``) and the event loop keeps answering meanwhile; one thread
keeps FreeType's faces single-threaded. A chart is cached by what it shows:
asking again for an unchanged report sends the same bytes without drawing.

Colours are the Okabe-Ito palette, which people with any common colour-vision
deficiency can tell apart; nothing relies on colour alone (targets differ by
line style, unstated categories and breaches by hatching), and every bar is
labelled with its number. The embed beside the chart holds every number and
describes the chart in words, and the file carries that text as alt text.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont, features

from bot.i18n import (
    N_,
    SOURCE,
    _,
    current,
    current_language,
    formats,
    ngettext,
    set_language,
)
from bot.render.text import plain
from bot.services.balance import (
    BalanceReport,
    BalanceWarning,
    Dimension,
    FunnelReport,
    FunnelStage,
    TargetLine,
    pct,
)

log = logging.getLogger(__name__)

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
GRID_COLOUR: Final = "#DDDDDD"
INK: Final = "#000000"
PAPER: Final = "#FFFFFF"

LineKind = Literal["max", "min", "equal"]
# Dash patterns in pixels (on, off, on, off…): ceilings dashed, floors dotted,
# equal shares dash-dot, as a printed chart would have them.
DASHES: Final[dict[LineKind, tuple[int, ...]]] = {
    "max": (8, 4),
    "min": (2, 3),
    "equal": (9, 3, 2, 3),
}
LINE_NAMES: Final[dict[LineKind, str]] = {
    "max": N_("ceiling (at most)"),
    "min": N_("floor (at least)"),
    "equal": N_("equal share"),
}

# Long names shortened on the chart only; the embed beside it spells them out.
SHORT_NAMES: Final = {
    "African Group": N_("African"),
    "Asia-Pacific Group": N_("Asia-Pacific"),
    "Eastern European Group": N_("Eastern European"),
    "Latin American and Caribbean Group (GRULAC)": N_("GRULAC"),
    "Western European and Others Group (WEOG)": N_("WEOG"),
    "Intergovernmental Organization": N_("IGO"),
    "Prefer not to say": "Prefer not to say",
}
MAX_LABEL: Final = 24

FONTS: Final = Path(__file__).parent / "fonts"
REGULAR: Final = FONTS / "DejaVuSans.ttf"
BOLD: Final = FONTS / "DejaVuSans-Bold.ttf"
# Chinese (they also hold Latin and Cyrillic, so a Chinese chart uses them throughout).
SIMPLIFIED: Final = FONTS / "NotoSansSC-Subset.otf"
TRADITIONAL: Final = FONTS / "NotoSansTC-Subset.otf"
CHINESE: Final = {"zh_Hans": SIMPLIFIED, "zh_Hant": TRADITIONAL}

# Layout in pixels, fixed, so nothing is measured twice.
LABEL_WIDTH: Final = 195  # room for a category name (at most MAX_LABEL characters)
AXES_WIDTH: Final = 460
MARGIN: Final = 25
TITLE_HEIGHT: Final = 100
LEGEND_HEIGHT: Final = 40
PANEL_TITLE: Final = 28  # a panel's title, above its axes
AXIS_BELOW: Final = 42  # tick numbers and the axis name, below the axes
ROW_GAP: Final = 30
BAR_PITCH: Final = 42  # per category
BAR_FILL: Final = 0.7  # of the pitch
TICKS: Final = range(0, 101, 20)
HATCH_STEP: Final = 8
CACHE_SIZE: Final = 64

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magbot-charts")
_drawn: OrderedDict[Hashable, bytes] = OrderedDict()


async def render_chart(report: BalanceReport | FunnelReport) -> bytes:
    """Return the report's chart as PNG bytes, drawn in the chart thread or from the cache.

    The cache is read and written on the event loop only, so it needs no lock.
    The chart thread draws in the caller's language: it runs in a copy of the
    caller's context (an executor does not carry context variables over).
    """
    language = chart_language()
    key = (language, chart_key(report))
    png = _drawn.get(key)
    if png is not None:
        _drawn.move_to_end(key)
        return png
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    if language != current():
        context.run(set_language, language)
    if isinstance(report, FunnelReport):
        png = await loop.run_in_executor(_executor, context.run, draw_funnel, report)
    else:
        png = await loop.run_in_executor(_executor, context.run, draw_balance, report)
    _drawn[key] = png
    while len(_drawn) > CACHE_SIZE:
        _drawn.popitem(last=False)
    return png


def chart_language() -> str:
    """Return the language a chart is drawn in: the current one if Pillow can write it.

    Without libraqm (FriBiDi missing) Pillow cannot shape Arabic or write it
    right to left, so an Arabic chart would be unreadable: it is drawn in
    English instead (the embed beside it stays in Arabic), and a warning is
    logged once.
    """
    language = current_language()
    if language.rtl and not shaping():
        global _warned_shaping
        if not _warned_shaping:
            _warned_shaping = True
            log.warning(
                "charts: Pillow has no libraqm (install FriBiDi: Debian libfribidi0); "
                "%s charts are drawn in English",
                language.name,
            )
        return SOURCE
    return language.code


@cache
def shaping() -> bool:
    """Return whether Pillow lays text out with libraqm (Arabic shaping, bidi)."""
    return bool(features.check("raqm"))


_warned_shaping = False


def clear_cache() -> None:
    """Forget every chart drawn (tests; a change of fonts or layout at run time)."""
    _drawn.clear()


def chart_key(report: BalanceReport | FunnelReport) -> Hashable:
    """Return what the chart shows, and nothing else: equal keys draw equal charts."""
    if isinstance(report, FunnelReport):

        def stages(funnel: Sequence[FunnelStage]) -> tuple[Hashable, ...]:
            return tuple((s.label, s.report.seats, s.report.dimensions) for s in funnel)

        def flags(found: Sequence[BalanceWarning]) -> tuple[Hashable, ...]:
            return tuple((flag.dimension, flag.category) for flag in found)

        return (
            "funnel",
            report.scope.title,
            report.drop_points,
            stages(report.nominations),
            stages(report.selection),
            flags(report.nomination_flags),
            flags(report.selection_flags),
        )
    return (
        "balance",
        report.scope.title,
        report.seats,
        report.people,
        report.dimensions,
        report.targets,
    )


def short(name: str) -> str:
    """Return a category's name as the chart prints it (shortened, translated)."""
    return plain(_(SHORT_NAMES.get(name, name)), MAX_LABEL)


def bar_label(seats: int, people: int | None, share: float, *, inputs: bool = False) -> str:
    """Return the text beside a bar: share, seats, and people where they differ.

    ``inputs``: a consultation's chart, where a "seat" is an input and a
    person a submitter.
    """
    if seats == 0:
        return _("nobody")
    if inputs and people is not None and people != seats:
        return ngettext(
            "{share} · {seats} inputs, {n} submitter",
            "{share} · {seats} inputs, {n} submitters",
            people,
            share=pct(share),
            seats=seats,
        )
    if people is not None and people != seats:
        return ngettext(
            "{share} · {seats} seats, {n} person",
            "{share} · {seats} seats, {n} people",
            people,
            share=pct(share),
            seats=seats,
        )
    return f"{pct(share)} · {seats}"


@cache
def _face(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _han(text: str) -> bool:
    """Return whether ``text`` has Chinese characters (or other CJK ideographs, kana, hangul)."""
    return any(
        "\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" or "\uf900" <= char <= "\uffef"
        for char in text
    )


def font(size: int, *, bold: bool = False, text: str = "") -> ImageFont.FreeTypeFont:
    """Return the font for ``text`` at ``size`` pixels in the current language.

    DejaVu Sans covers Latin, Cyrillic and Arabic. Chinese charts use Noto Sans
    CJK (simplified or traditional forms, by language; it has no bold here), and
    so does any text with Chinese characters in it, such as a name as typed.
    """
    language = current()
    chinese = CHINESE.get(language)
    if chinese is None and _han(text):
        chinese = SIMPLIFIED
    if chinese is not None:
        return _face(chinese, size)
    return _face(BOLD if bold else REGULAR, size)


TITLE_FONT: Final = (19, True)
PANEL_FONT: Final = (17, False)
NAME_FONT: Final = (14, False)
LABEL_FONT: Final = (12, False)
TICK_FONT: Final = (12, False)
LEGEND_FONT: Final = (14, False)


def fitted(text: str, spec: tuple[int, bool], width: float) -> tuple[str, tuple[int, bool]]:
    """Return ``text`` and a font that fit ``width`` pixels: a smaller size, then shortened.

    Category names are at most ``MAX_LABEL`` characters, but 24 Cyrillic or
    Chinese characters are wider than 24 Latin ones.
    """
    size, bold = spec
    for smaller in (size, size - 1, size - 2):
        if _font((smaller, bold), text).getlength(text) <= width:
            return text, (smaller, bold)
    smallest = (size - 2, bold)
    face = _font(smallest, text)
    while len(text) > 1 and face.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…", smallest


@cache
def _has_glyph(path: str, char: str) -> bool:
    """Return whether the font at ``path`` draws ``char`` (not its "missing" box)."""
    face = _face(Path(path), 20)
    missing = face.getmask("\U0010ffff")
    drawn = face.getmask(char)
    return drawn.size != missing.size or bytes(drawn) != bytes(missing)


def _runs(
    text: str, face: ImageFont.FreeTypeFont, spec: tuple[int, bool]
) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """Split ``text`` where ``face`` lacks a character (▼ in the Chinese subsets): DejaVu there."""
    path = str(face.path)
    if path not in (str(SIMPLIFIED), str(TRADITIONAL)) or text.isascii():
        return [(text, face)]
    fallback = _face(BOLD if spec[1] else REGULAR, spec[0])
    runs: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for char in text:
        chosen = face if char.isspace() or _has_glyph(path, char) else fallback
        if runs and runs[-1][1] is chosen:
            runs[-1] = (runs[-1][0] + char, chosen)
        else:
            runs.append((char, chosen))
    return runs


def _font(spec: tuple[int, bool], text: str = "") -> ImageFont.FreeTypeFont:
    return font(spec[0], bold=spec[1], text=text)


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Axes:
    """One panel's plotting area: shares in percent across, one row per category down."""

    box: Box
    rows: int
    end: float  # the share (percent) at the right edge

    def x(self, percent: float) -> float:
        return self.box.left + self.box.width * min(percent, self.end) / self.end

    def y(self, row: float) -> float:
        """Return the pixel row of a category's centre (row 0 on top)."""
        return self.box.top + self.box.height * (row + 0.5) / self.rows

    @property
    def pitch(self) -> float:
        return self.box.height / self.rows


class Canvas:
    """A white RGB image and the few drawing operations a chart needs."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("RGB", (width, height), PAPER)
        self.draw = ImageDraw.Draw(self.image)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        spec: tuple[int, bool],
        anchor: str = "la",
        fill: str = INK,
        *,
        halo: bool = False,
    ) -> None:
        """Write ``text`` at ``xy`` (``anchor`` as Pillow reads it); ``halo``: on white."""
        face = _font(spec, text)
        runs = _runs(text, face, spec)
        if len(runs) > 1 and "\n" not in text:
            self._text_runs(xy, runs, anchor, fill)
            return
        if halo:
            left, top, right, bottom = self.draw.textbbox(xy, text, font=face, anchor=anchor)
            self.draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=PAPER)
        self.draw.text(xy, text, font=face, anchor=anchor, fill=fill)

    def _text_runs(
        self,
        xy: tuple[float, float],
        runs: list[tuple[str, ImageFont.FreeTypeFont]],
        anchor: str,
        fill: str,
    ) -> None:
        """Write runs of text in different fonts side by side, as one text at ``anchor``."""
        widths = [face.getlength(part) for part, face in runs]
        x, y = xy
        x -= {"l": 0.0, "m": sum(widths) / 2, "r": sum(widths)}.get(anchor[0], 0.0)
        for (part, face), width in zip(runs, widths, strict=True):
            self.draw.text((x, y), part, font=face, anchor="l" + anchor[1:], fill=fill)
            x += width

    def hatch(self, box: Box, pattern: Literal["//", "xx"], width: int = 1) -> None:
        """Draw diagonal hatching inside ``box``: ``//`` one way, ``xx`` both ways."""
        left, top, right, bottom = box.left, box.top, box.right, box.bottom
        lines: list[tuple[float, float, float, float]] = []
        # "/" lines are x + y = c (y grows downwards), "\" lines x - y = c.
        c = left + top + HATCH_STEP / 2
        while c < right + bottom:
            x0, x1 = max(left, c - bottom), min(right, c - top)
            if x0 < x1:
                lines.append((x0, c - x0, x1, c - x1))
            c += HATCH_STEP
        if pattern == "xx":
            c = left - bottom + HATCH_STEP / 2
            while c < right - top:
                x0, x1 = max(left, c + top), min(right, c + bottom)
                if x0 < x1:
                    lines.append((x0, x0 - c, x1, x1 - c))
                c += HATCH_STEP
        for line in lines:
            self.draw.line(line, fill=INK, width=width)

    def dashed(self, x: float, top: float, bottom: float, kind: LineKind, width: int = 2) -> None:
        """Draw a vertical line from ``top`` to ``bottom`` in ``kind``'s dash pattern."""
        pattern = DASHES[kind]
        y, index = top, 0
        while y < bottom:
            run = pattern[index % len(pattern)]
            if index % 2 == 0:
                self.draw.line((x, y, x, min(bottom, y + run)), fill=INK, width=width)
            y += run
            index += 1

    def dashed_sample(self, x: float, y: float, length: float, kind: LineKind) -> None:
        """Draw a short horizontal stretch of ``kind``'s dash pattern (for the legend)."""
        pattern = DASHES[kind]
        at, index = x, 0
        while at < x + length:
            run = pattern[index % len(pattern)]
            if index % 2 == 0:
                self.draw.line((at, y, min(x + length, at + run), y), fill=INK, width=2)
            at += run
            index += 1

    def png(self) -> bytes:
        """Return the image as a PNG of the chart's own palette (half the bytes, twice as fast).

        Pillow filters every row of an RGB PNG five ways and keeps the best;
        a palette image is written as it is. Light compression: the default
        level took most of the encoding time for a file only 10% smaller.
        """
        indexed = self.image.quantize(palette=_palette(), dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        indexed.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@cache
def _palette() -> Image.Image:
    """Return a palette image holding every colour a chart draws.

    The chart's colours, a ramp of greys for text smoothed on white, and each
    colour faded toward black and white for text and lines across bars.
    """
    colours = [*DIMENSION_COLOURS, *STAGE_COLOURS, UNSTATED_COLOUR, GRID_COLOUR]
    entries = {(v, v, v) for v in range(0, 256, 8)} | {(255, 255, 255)}
    for colour in colours:
        red, green, blue = _rgb(colour)
        for step in range(5):
            fade = step / 5
            entries.add(
                (round(red * (1 - fade)), round(green * (1 - fade)), round(blue * (1 - fade)))
            )
            entries.add(
                (
                    round(red + (255 - red) * fade),
                    round(green + (255 - green) * fade),
                    round(blue + (255 - blue) * fade),
                )
            )
    flat = [value for entry in sorted(entries) for value in entry]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


def _end(width: float, labels: Sequence[tuple[float, str]], lines: Sequence[float] = ()) -> float:
    """Return the share (percent) at the right edge of axes ``width`` pixels wide.

    100, or more so that each label fits: ``labels`` are (share, text) pairs,
    the text written just right of its bar.
    """
    end = max([100.0, *(share * 100 + 5 for share in lines)])
    for share, label in labels:
        room = width - _font(LABEL_FONT, label).getlength(label) - 10
        if room > width * 0.2:
            end = max(end, share * 100 * width / room)
    return end


def _frame(
    canvas: Canvas, axes: Axes, title: str, names: Sequence[str], *, inputs: bool = False
) -> None:
    """Draw the panel's title, grid, frame, category names and percent axis."""
    box = axes.box
    canvas.text((box.left, box.top - 6), title, PANEL_FONT, anchor="ld")
    for tick in TICKS:
        x = axes.x(tick)
        canvas.draw.line((x, box.top, x, box.bottom), fill=GRID_COLOUR, width=1)
        canvas.draw.line((x, box.bottom, x, box.bottom + 4), fill=INK, width=1)
        canvas.text((x, box.bottom + 6), str(tick), TICK_FONT, anchor="mt")
    canvas.text(
        (box.left + box.width / 2, box.bottom + AXIS_BELOW - 2),
        _("share of inputs (%)") if inputs else _("share of seats (%)"),
        TICK_FONT,
        anchor="md",
    )
    for row, name in enumerate(names):
        shown, spec = fitted(name, NAME_FONT, LABEL_WIDTH - 12)
        canvas.text((box.left - 8, axes.y(row)), shown, spec, anchor="rm")


def _outline(canvas: Canvas, box: Box) -> None:
    canvas.draw.rectangle((box.left, box.top, box.right, box.bottom), outline=INK, width=1)


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


def _bars(
    canvas: Canvas,
    box: Box,
    dimension: Dimension,
    colour: str,
    lines: Sequence[TargetLine],
    *,
    inputs: bool = False,
) -> None:
    categories = dimension.categories
    over = _breaches(dimension, lines)
    labels = [bar_label(c.seats, c.people, c.share, inputs=inputs) for c in categories]
    end = _end(
        box.width,
        [(c.share, label) for c, label in zip(categories, labels, strict=True)],
        [line.share for line in lines],
    )
    axes = Axes(box, max(1, len(categories)), end)
    evenness = dimension.evenness
    shown = "—" if evenness is None else formats.decimal(evenness, 2)
    measure = _("evenness {evenness}", evenness=shown)
    title = f"{_(dimension.label)}  ·  {measure}"
    _frame(canvas, axes, title, [short(c.name) for c in categories], inputs=inputs)
    half = axes.pitch * BAR_FILL / 2
    for row, category in enumerate(categories):
        y = axes.y(row)
        right = axes.x(category.share * 100)
        bar = Box(box.left, y - half, right, y + half)
        if right > box.left:
            fill = colour if category.stated else UNSTATED_COLOUR
            breach = category.name in over
            canvas.draw.rectangle(
                (bar.left, bar.top, bar.right, bar.bottom),
                fill=fill,
                outline=INK,
                width=2 if breach else 1,
            )
            if not category.stated:
                canvas.hatch(bar, "//")
            elif breach:
                canvas.hatch(bar, "xx")
    names = [c.name for c in categories]
    for line in lines:
        x = axes.x(line.share * 100)
        if line.category is None:
            canvas.dashed(x, box.top, box.bottom, line.kind)
        elif line.category in names:
            y = axes.y(names.index(line.category))
            canvas.dashed(x, y - axes.pitch * 0.45, y + axes.pitch * 0.45, line.kind, width=3)
    # Labels last, on white, so a target line never runs through their figures.
    for row, (category, label) in enumerate(zip(categories, labels, strict=True)):
        right = axes.x(category.share * 100)
        canvas.text((right + 5, axes.y(row)), label, LABEL_FONT, anchor="lm", halo=True)
    _outline(canvas, box)


def _panel_height(bars: int) -> int:
    return BAR_PITCH * max(2, bars) + 30


@dataclass(frozen=True)
class Grid:
    """Panels in rows and columns under a title, with room for a legend below."""

    columns: int
    heights: tuple[int, ...]  # of each row's axes
    legend_rows: int

    @property
    def width(self) -> int:
        return self.columns * (LABEL_WIDTH + AXES_WIDTH) + MARGIN

    @property
    def height(self) -> int:
        rows = sum(PANEL_TITLE + h + AXIS_BELOW for h in self.heights)
        gaps = ROW_GAP * (len(self.heights) - 1)
        return TITLE_HEIGHT + rows + gaps + LEGEND_HEIGHT * self.legend_rows + MARGIN

    def box(self, row: int, column: int) -> Box:
        top = TITLE_HEIGHT + sum(PANEL_TITLE + h + AXIS_BELOW + ROW_GAP for h in self.heights[:row])
        left = column * (LABEL_WIDTH + AXES_WIDTH) + LABEL_WIDTH
        top += PANEL_TITLE
        return Box(left, top, left + AXES_WIDTH - MARGIN, top + self.heights[row])

    def canvas(self) -> Canvas:
        return Canvas(self.width, self.height)


def _title(canvas: Canvas, text: str) -> None:
    width = canvas.image.width
    for index, line in enumerate(text.splitlines()):
        canvas.text((width / 2, 18 + index * 26), line, TITLE_FONT, anchor="mt")


@dataclass(frozen=True)
class Key:
    """One legend entry: a dash pattern, or a swatch filled and hatched."""

    label: str
    line: LineKind | None = None
    fill: str = PAPER
    hatch: Literal["//", "xx"] | None = None


def _legend(canvas: Canvas, keys: Sequence[Key], per_row: int, bottom: float) -> None:
    """Draw the keys centred in rows of ``per_row`` above ``bottom``."""
    rows = [keys[i : i + per_row] for i in range(0, len(keys), per_row)]
    for index, row in enumerate(rows):
        y = bottom - LEGEND_HEIGHT * (len(rows) - index) + LEGEND_HEIGHT / 2
        widths = [34 + _font(LEGEND_FONT, key.label).getlength(key.label) for key in row]
        x = (canvas.image.width - sum(widths) - 30 * (len(row) - 1)) / 2
        for key, width in zip(row, widths, strict=True):
            if key.line is not None:
                canvas.dashed_sample(x, y, 26, key.line)
            else:
                swatch = Box(x, y - 7, x + 26, y + 7)
                canvas.draw.rectangle(
                    (swatch.left, swatch.top, swatch.right, swatch.bottom),
                    fill=key.fill,
                    outline=INK,
                )
                if key.hatch:
                    canvas.hatch(swatch, key.hatch)
            canvas.text((x + 34, y), key.label, LEGEND_FONT, anchor="lm")
            x += width + 30


def draw_balance(report: BalanceReport) -> bytes:
    """Return a PNG with one bar panel per dimension, target lines drawn."""
    inputs = report.scope.kind == "consultation"
    dimensions = report.dimensions
    columns = 2 if len(dimensions) > 3 else 1
    sizes = [len(d.categories) for d in dimensions] or [0]
    rows = tuple(_panel_height(max(sizes[i : i + columns])) for i in range(0, len(sizes), columns))
    # One column is too narrow for the legend on one line: two entries a line.
    per_row = 4 if columns > 1 else 2
    grid = Grid(columns, rows, legend_rows=4 // per_row)
    canvas = grid.canvas()
    kinds: set[LineKind] = set()
    breaches = False
    for index, dimension in enumerate(dimensions):
        lines = [line for line in report.targets if line.dimension == dimension.key]
        kinds |= {line.kind for line in lines}
        breaches = breaches or bool(_breaches(dimension, lines))
        box = grid.box(index // columns, index % columns)
        colour = DIMENSION_COLOURS[index % len(DIMENSION_COLOURS)]
        _bars(canvas, box, dimension, colour, lines, inputs=inputs)
    keys = [
        Key(_(LINE_NAMES[kind]), line=kind) for kind in ("max", "min", "equal") if kind in kinds
    ]
    if breaches:
        keys.append(Key(_("over its ceiling"), hatch="xx"))
    if any(not c.stated and c.seats for d in dimensions for c in d.categories):
        keys.append(Key(_("not stated / prefer not to say"), fill=UNSTATED_COLOUR, hatch="//"))
    _legend(canvas, keys, per_row, grid.height - MARGIN / 2)
    if inputs:
        seats = ngettext(
            "{n} input, {people} submitters",
            "{n} inputs, {people} submitters",
            report.seats,
            people=report.people,
        )
    elif report.people != report.seats:
        seats = ngettext(
            "{n} seats, {people} people",
            "{n} seats, {people} people",
            report.seats,
            people=report.people,
        )
    else:
        seats = ngettext("{n} seats", "{n} seats", report.seats)
    _title(canvas, f"{report.scope.title}\n{seats}")
    return canvas.png()


def _stages(
    canvas: Canvas,
    box: Box,
    key: str,
    stages: Sequence[FunnelStage],
    flagged: set[tuple[str, str]],
    funnel: str,
) -> None:
    reports = [stage.report for stage in stages]
    first = reports[0].dimension(key)
    names = [c.name for c in first.categories]
    shares = [[report.dimension(key).share_of(name) * 100 for name in names] for report in reports]
    texts = [[f"{share:.0f}%" for share in row] for row in shares]
    end = _end(
        box.width,
        [
            (share / 100, text)
            for row, row_texts in zip(shares, texts, strict=True)
            for share, text in zip(row, row_texts, strict=True)
        ],
    )
    axes = Axes(box, max(1, len(names)), end)
    labels = [short(name) + ("  ▼" if (key, name) in flagged else "") for name in names]
    _frame(canvas, axes, f"{_(first.label)}  ·  {funnel}", labels)
    height = axes.pitch * 0.8 / len(stages)
    for index, (row, row_texts) in enumerate(zip(shares, texts, strict=True)):
        colour = STAGE_COLOURS[index % len(STAGE_COLOURS)]
        for category, (share, text) in enumerate(zip(row, row_texts, strict=True)):
            top = axes.y(category) - axes.pitch * 0.4 + height * index
            right = axes.x(share)
            if right > box.left:
                canvas.draw.rectangle(
                    (box.left, top, right, top + height), fill=colour, outline=INK
                )
            canvas.text((right + 4, top + height / 2), text, LABEL_FONT, anchor="lm")
    _outline(canvas, box)


FUNNEL_DIMENSIONS: Final = ("stakeholder_group", "region", "gender")


def _stage_key(funnel: str | None, stage: FunnelStage) -> str:
    """Return a stage's legend entry, its funnel named before the first stage."""
    seats = stage.report.seats
    if funnel is None:
        return ngettext("{stage} ({n} seats)", "{stage} ({n} seats)", seats, stage=_(stage.label))
    return ngettext(
        "{funnel}: {stage} ({n} seats)",
        "{funnel}: {stage} ({n} seats)",
        seats,
        funnel=funnel.capitalize(),
        stage=_(stage.label),
    )


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
    grid = Grid(len(keys), (_panel_height(tallest), _panel_height(tallest)), legend_rows=2)
    canvas = grid.canvas()
    funnels = ((_("nominations"), funnel.nominations), (_("selection"), funnel.selection))
    for row, (name, stages) in enumerate(funnels):
        for column, key in enumerate(keys):
            _stages(canvas, grid.box(row, column), key, stages, flagged[row], name)
    # One legend line per funnel: its stages' colours and seat counts.
    for row, (name, stages) in enumerate(funnels):
        entries = [
            Key(
                _stage_key(name if i == 0 else None, stage),
                fill=STAGE_COLOURS[i % len(STAGE_COLOURS)],
            )
            for i, stage in enumerate(stages)
        ]
        bottom = grid.height - MARGIN / 2 - LEGEND_HEIGHT * (1 - row)
        _legend(canvas, entries, len(entries), bottom)
    drops = _("▼ share falls more than {points} points", points=f"{funnel.drop_points:g}")
    _title(canvas, f"{funnel.scope.title}\n{drops}")
    return canvas.png()
