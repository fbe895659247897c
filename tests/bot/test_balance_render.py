"""The /balance embeds and charts: valid PNGs, Discord's limits, the chart in words."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from pathlib import Path

from PIL import Image

from bot.i18n import speaking
from bot.render import charts
from bot.render.balance import (
    balance_embed,
    describe_chart,
    effect_embed_of,
    effect_lines,
    funnel_embed,
)
from bot.render.embeds import TOTAL, fit_embed
from bot.services.balance import (
    MAG_SCOPE,
    BalanceEffect,
    FunnelReport,
    FunnelStage,
    Scope,
    ShareShift,
    make_report,
    programme_scope,
)
from bot.services.config import DEFAULTS
from storage.balance import Count, SeatCounts


def counts(seats: int, groups: dict[str, int]) -> SeatCounts:
    return SeatCounts(
        Count(seats, seats),
        {
            "stakeholder_group": {k: Count(v, v) for k, v in groups.items()},
            "region": {"Western European and Others Group (WEOG)": Count(seats, seats)},
            "gender": {"Female": Count(seats - 1, seats - 1), "Prefer not to say": Count(1, 1)},
            "attendance": {"onsite": Count(seats, seats)},
        },
    )


REPORT = make_report(
    counts(20, {"Private Sector": 12, "Civil Society": 8}), programme_scope(), DEFAULTS.rules
)


def png_ok(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()
    return Image.open(io.BytesIO(data))


async def test_charts_are_drawn_off_the_event_loop_as_valid_pngs() -> None:
    threads: list[str] = []
    draw = charts.draw_balance

    def spy(report):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return draw(report)

    charts.clear_cache()
    charts.draw_balance = spy  # type: ignore[assignment]
    try:
        image = png_ok(await charts.render_chart(REPORT))
        again = await charts.render_chart(replace(REPORT, warnings=()))
        other = REPORT.dimensions[0]
        changed = replace(
            REPORT, dimensions=(replace(other, label="Groups"), *REPORT.dimensions[1:])
        )
        png_ok(await charts.render_chart(changed))
    finally:
        charts.draw_balance = draw  # type: ignore[assignment]
    assert threads and threads[0].startswith("magbot-charts")
    assert image.width > 1000 and image.height > 800
    # The same chart is drawn once (warnings are not on it); a changed one anew.
    assert len(threads) == 2
    assert again == charts.draw_balance(REPORT)


def test_a_chart_of_nobody_and_of_the_mag_still_draw() -> None:
    png_ok(charts.draw_balance(make_report(SeatCounts(), programme_scope(), DEFAULTS.rules)))
    mag = make_report(
        counts(40, {"Government": 20, "Civil Society": 20}),
        MAG_SCOPE,
        DEFAULTS.rules,
        dimensions=("stakeholder_group", "region", "gender"),
    )
    png_ok(charts.draw_balance(mag))


def test_funnel_chart_and_embed() -> None:
    def stage(label: str, groups: dict[str, int]) -> FunnelStage:
        scope = Scope("funnel", label, label.lower(), "one")
        report = make_report(counts(sum(groups.values()), groups), scope, DEFAULTS.rules)
        return FunnelStage(label, report)

    funnel = FunnelReport(
        Scope("funnel", "Funnel: nominations and selection", "seats", "one"),
        (stage("Nominated", {"Civil Society": 20}), stage("Confirmed", {"Civil Society": 10})),
        (stage("Submitted", {"Civil Society": 20}), stage("Accepted", {"Civil Society": 5})),
        (),
        (),
        10,
    )
    png_ok(charts.draw_funnel(funnel))
    text = fit_embed(funnel_embed(funnel)).to_dict()
    assert "Nominated 20 → Confirmed 10 seats" in text["description"]


def test_the_embed_holds_every_number_and_the_chart_in_words() -> None:
    embed = fit_embed(balance_embed(REPORT))
    assert len(embed) <= TOTAL
    data = embed.to_dict()
    assert data["image"]["url"] == "attachment://balance.png"
    fields = {f["name"]: f["value"] for f in data["fields"]}
    # 12 and 8 seats over the five groups: evenness 0.42.
    assert "Private Sector: 12 (60%)" in fields["Stakeholder group · evenness 0.42"]
    assert "⚠️ Private Sector holds 60%" in data["description"]
    assert "Crossed bars are over their ceiling: " in fields["The chart in words"]
    assert "Dashed lines mark ceilings" in describe_chart(REPORT)


def test_effect_lines_before_and_after() -> None:
    warning = REPORT.warnings[0]
    effect = BalanceEffect(
        scope=programme_scope(),
        seats_before=19,
        seats_after=20,
        people_before=19,
        people_after=20,
        shifts=(ShareShift("Stakeholder group", "Private Sector", 0.58, 0.6),),
        new_warnings=(warning,),
        resolved=(),
        still=(),
    )
    lines = effect_lines(effect)
    assert lines[0] == (
        "Programme balance (confirmed seats on accepted proposals): 19 → 20 seats, 19 → 20 people."
    )
    assert lines[1] == "Stakeholder group: Private Sector 58% → 60%"
    assert lines[2] == f"⚠️ {warning.text}"
    embed = effect_embed_of(effect)
    assert embed is not None and embed.title == "Balance warning"
    assert effect_embed_of(None) is None and effect_embed_of(object()) is None


def test_chinese_charts_use_a_font_with_chinese_characters() -> None:
    with speaking("zh_Hans"):
        face = charts.font(14, text="Government")
        assert Path(face.path).name == "NotoSansSC-Subset.otf"
        # It has the characters (a missing glyph draws an empty or boxed mask).
        assert face.getmask("政府").getbbox() != face.getmask("\uffff\uffff").getbbox()
    with speaking("zh_Hant"):
        assert Path(charts.font(14).path).name == "NotoSansTC-Subset.otf"
    # Latin, Cyrillic and Arabic charts keep DejaVu, except for a name typed in Chinese.
    for code in ("en", "ru", "ar"):
        with speaking(code):
            assert Path(charts.font(14, text="Гражданское общество").path).name == "DejaVuSans.ttf"
            assert Path(charts.font(14, text="王小明").path).name == "NotoSansSC-Subset.otf"


def test_a_chinese_chart_draws_differently_from_the_english_one() -> None:
    charts.clear_cache()
    english = charts.draw_balance(REPORT)
    with speaking("zh_Hans"):
        chinese = charts.draw_balance(REPORT)
    png_ok(chinese)
    assert chinese != english


async def test_arabic_charts_are_drawn_in_english_where_pillow_cannot_shape(monkeypatch) -> None:
    charts.clear_cache()
    with speaking("ar"):
        assert charts.chart_language() == ("ar" if charts.shaping() else "en")
        monkeypatch.setattr(charts, "shaping", lambda: False)
        assert charts.chart_language() == "en"
        english_drawn = await charts.render_chart(REPORT)
    assert english_drawn == charts.draw_balance(REPORT)


def test_symbols_the_chinese_fonts_lack_are_drawn_in_dejavu() -> None:
    with speaking("zh_Hant"):
        face = charts.font(14)
        runs = charts._runs("▼ 占比下降 10", face, (14, False))
    assert [part for part, _face in runs] == ["▼", " 占比下降 10"]
    assert Path(runs[0][1].path).name == "DejaVuSans.ttf"
    assert Path(runs[1][1].path).name == "NotoSansTC-Subset.otf"
    # A Latin or Cyrillic chart is one run, as before.
    with speaking("ru"):
        assert len(charts._runs("▼ доля", charts.font(14), (14, False))) == 1
