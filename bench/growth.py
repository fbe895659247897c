"""Cost of ``/balance programme`` as the data grows: 1,000 to 1,000,000 participations.

    python -m bench.growth [--sizes 1000 10000 100000 1000000] [--plot docs/images/growth.png]

For each size, ``bench.balance`` builds a fresh SQLite database (200 guilds,
or fewer for the small sizes, the largest holding about 5%), times the
service call behind ``/balance programme`` for the largest guild, its bare
SQL and drawing its chart, and this prints one line per size and draws the
figures as grouped bars (drawn with Pillow, as the bot's charts are). The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bench.balance import generate, run_backend
from bot.render.charts import DIMENSION_COLOURS, font

SERIES = (("service", "service call (query, metrics, warnings)"), ("bare SQL", "bare SQL"),
          ("chart", "drawing the chart"))  # fmt: skip


async def measure(size: int, runs: int) -> dict[str, Any]:
    guilds = max(1, min(200, size // 5000))
    data = generate(size, guilds, seed=5)
    args = argparse.Namespace(runs=runs, postgres="", chart=None)
    times, _, _ = await run_backend("sqlite", args, data)
    return {
        "participations": size,
        "guilds": guilds,
        "largest_guild": data.largest_size,
        **{f"{name}_p50_ms": statistics.median(values) for name, values in times.items()},
    }


def plot(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Grouped bars: one group per size, one bar per series, labelled in ms."""
    width, row_height, left = 1100, 26, 250
    height = 70 + len(rows) * (len(SERIES) * row_height + 30) + 50
    image = Image.new("RGB", (width, height), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, 20), "/balance programme as the data grows (SQLite, p50)",
              font=font(19, bold=True), fill="#000000", anchor="mt")  # fmt: skip
    top = max(max(row[f"{name}_p50_ms"] for name, _ in SERIES) for row in rows)
    scale = (width - left - 140) / top
    y = 70
    for row in rows:
        label = f"{row['participations']:,} participations"
        sub = f"largest guild {row['largest_guild']:,}"
        draw.text((left - 12, y + 10), label, font=font(15), fill="#000000", anchor="rm")
        draw.text((left - 12, y + 30), sub, font=font(12), fill="#555555", anchor="rm")
        for index, (name, _) in enumerate(SERIES):
            value = row[f"{name}_p50_ms"]
            colour = DIMENSION_COLOURS[index]
            draw.rectangle((left, y, left + max(1, value * scale), y + row_height - 6),
                           fill=colour, outline="#000000")  # fmt: skip
            draw.text((left + value * scale + 6, y + (row_height - 6) / 2), f"{value:.1f} ms",
                      font=font(12), fill="#000000", anchor="lm")  # fmt: skip
            y += row_height
        y += 30
    x = left
    for index, (_, label) in enumerate(SERIES):
        draw.rectangle((x, y + 10, x + 26, y + 24), fill=DIMENSION_COLOURS[index], outline="#000")
        draw.text((x + 34, y + 17), label, font=font(13), fill="#000000", anchor="lm")
        x += 44 + font(13).getlength(label)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for size in args.sizes:
        row = await measure(size, args.runs)
        rows.append(row)
        print(
            f"{size:>9,} participations ({row['guilds']} guilds, largest {row['largest_guild']:,}):"
            f"  service {row['service_p50_ms']:.1f} ms  bare SQL {row['bare SQL_p50_ms']:.1f} ms"
            f"  chart {row['chart_p50_ms']:.1f} ms",
            flush=True,
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--plot", type=Path, default=Path("docs/images/growth.png"))
    rows = asyncio.run(run(parser.parse_args(argv)))
    plot(rows, parser.parse_args(argv).plot)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
