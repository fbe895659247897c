"""Every embed fits Discord's limits, whatever users typed into it."""

from __future__ import annotations

import discord
from discord import app_commands
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.render import embeds
from bot.render.embeds import fit_embed
from bot.render.help import CommandLine, help_embeds
from bot.tree import unwrap, user_message

hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=5000
) | st.sampled_from(["@everyone", "<@&123>", "```" * 900, "\u200b" * 3000, ""])


def _size(embed: discord.Embed) -> int:
    return (
        len(embed.title or "")
        + len(embed.description or "")
        + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
        + len(embed.footer.text or "")
        + len(embed.author.name or "")
    )


@settings(max_examples=60, deadline=None)
@given(
    title=hostile,
    description=hostile,
    fields=st.lists(st.tuples(hostile, hostile), max_size=40),
    footer=hostile,
)
def test_fit_embed_always_fits(title, description, fields, footer) -> None:
    embed = discord.Embed(title=title, description=description)
    for name, value in fields:
        embed.add_field(name=name, value=value)
    embed.set_footer(text=footer)
    fitted = fit_embed(embed)
    assert len(fitted.title or "") <= embeds.TITLE
    assert len(fitted.description or "") <= embeds.DESCRIPTION
    assert len(fitted.fields) <= embeds.FIELDS
    assert all(len(f.value or "") <= embeds.FIELD_VALUE for f in fitted.fields)
    assert all(len(f.name or "") <= embeds.FIELD_NAME for f in fitted.fields)
    assert _size(fitted) <= embeds.TOTAL
    fitted.to_dict()


def test_short_embeds_are_left_alone() -> None:
    embed = discord.Embed(title="WS #12", description="Data governance")
    embed.add_field(name="Status", value="submitted")
    assert fit_embed(embed).to_dict() == embed.to_dict()


def test_dropped_fields_are_counted() -> None:
    embed = discord.Embed(title="t")
    for i in range(30):
        embed.add_field(name=str(i), value="v")
    fitted = fit_embed(embed)
    assert len(fitted.fields) == 25
    assert fitted.footer.text == "5 more not shown"


def test_help_splits_long_sections() -> None:
    lines = [CommandLine(f"/cmd{i}", "[option]", "d" * 90, "admins") for i in range(30)] + [
        CommandLine("/help", "", "List the commands", "everyone")
    ]
    everyone, admins = help_embeds(lines)  # one embed (one message) per audience
    assert everyone.title == "For everyone" and everyone.description
    names = [f.name for f in admins.fields]
    assert names == ["For server admins"] + ["For server admins (continued)"] * (len(names) - 1)
    assert all(len(f.value or "") <= 1024 for f in admins.fields)
    assert sum((f.value or "").count("\n") + 1 for f in admins.fields) == 30
    assert len(admins) <= 6000  # each message within Discord's limit


def test_help_fits_discords_limits_in_every_language() -> None:
    import asyncio

    from bot.client import command_list
    from bot.i18n import LANGUAGES, speaking
    from bot.settings import load_settings
    from cogs.help import command_lines

    settings = load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"})
    tree = discord.app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    for command in asyncio.run(command_list(settings)):
        tree.add_command(command)
    for code in LANGUAGES:
        with speaking(code):
            for embed in help_embeds(command_lines(tree)):
                assert len(embed) <= 6000, (code, embed.title, len(embed))
                assert all(len(f.value or "") <= 1024 for f in embed.fields)


def test_user_errors_are_shown_as_written_and_others_are_not() -> None:
    error = InvalidInput("Use HH:MM, for example 09:00.")
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = error
    assert unwrap(wrapped) is error
    assert user_message(wrapped) == "Use HH:MM, for example 09:00."
    boom = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    boom.original = RuntimeError("database exploded")
    assert user_message(boom) is None
    assert (
        user_message(app_commands.NoPrivateMessage()) == "This command works only inside a server."
    )


def test_right_to_left_lines_are_marked_so_and_markdown_stays_first() -> None:
    from bot.i18n import speaking
    from bot.render.embeds import RLM, directed, fit_embed

    text = "#12 مقترح\n- <@1> متحدث\n> اقتباس\n\n```\ncode\n```"
    assert directed(text) == text  # English: unchanged
    with speaking("ar"):
        marked = directed(text).split("\n")
        assert marked[0] == RLM + "#12 مقترح"
        assert marked[1] == "- " + RLM + "<@1> متحدث"
        assert marked[2] == "> " + RLM + "اقتباس"
        assert marked[3] == "" and marked[4] == "```"
        assert directed(directed("سطر")) == RLM + "سطر"  # once only
        embed = fit_embed(discord.Embed(title="WS #1", description="#3: نص"))
        embed_field = discord.Embed().add_field(name="#1", value="٣")
        assert embed.title == RLM + "WS #1" and embed.description == RLM + "#3: نص"
        assert fit_embed(embed_field).fields[0].name == RLM + "#1"
