"""Prove the fake Discord against a real, in-process discord.py AutoShardedBot.

A small bot with the same shape as the real one (AutoShardedBot, custom
CommandTree, guilds intent only, no mentions) exercises every flow the e2e
tests rely on: slash commands with choices and channel options, resolved
users and roles, deferral with an embed and a file, modals, buttons and
selects, autocomplete, DMs, channel faults, late and duplicate callbacks,
gateway reconnects and a bot restart. A raw websocket test checks sharding.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from bot.sandbox.fakediscord import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    MANAGE_GUILD,
    FakeDiscord,
    FakeGuild,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUILD_ID = 1_320_000_000_000_000_000
CATEGORY_ID = GUILD_ID + 10
GENERAL_ID = GUILD_ID + 11
DIGEST_ID = GUILD_ID + 12
VOICE_ID = GUILD_ID + 13
ADMIN_ROLE_ID = GUILD_ID + 20
MEMBER_ROLE_ID = GUILD_ID + 21
ADMIN_ID = GUILD_ID + 30
MEMBER_ID = GUILD_ID + 31
SHY_ID = GUILD_ID + 32  # a member whose DMs are closed
GUILD = discord.Object(id=GUILD_ID)
ZONES = ["Europe/Zurich", "Europe/Zagreb", "Europe/Paris", "America/New_York", "Asia/Tokyo"]


# -- the bot under test ----------------------------------------------------------


class RecordingTree(app_commands.CommandTree):
    """Like the real bot's tree: one on_error for everything (here it records)."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        assert isinstance(interaction.client, HarnessBot)
        interaction.client.errors.append(error)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    topic: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Topic", custom_id="topic", max_length=50
    )
    details: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Details", custom_id="details", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Thanks: {self.topic.value} / {self.details.value or '-'}", ephemeral=True
        )


class AgendaModal(discord.ui.Modal, title="Agenda item"):
    """A modal in discord.py 2.6+'s style: Labels around a text input and a select."""

    question: discord.ui.Label[AgendaModal] = discord.ui.Label(
        text="Question", component=discord.ui.TextInput(custom_id="question")
    )
    kind: discord.ui.Label[AgendaModal] = discord.ui.Label(
        text="Kind",
        component=discord.ui.Select(
            custom_id="kind",
            options=[discord.SelectOption(label=x.title(), value=x) for x in ("policy", "budget")],
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.question.component, discord.ui.TextInput)
        assert isinstance(self.kind.component, discord.ui.Select)
        text = f"{self.kind.component.values[0]}: {self.question.component.value}"
        await interaction.response.send_message(text)


class VoteView(discord.ui.View):
    @discord.ui.select(
        custom_id="vote:pick",
        placeholder="Pick an item",
        options=[discord.SelectOption(label=x.upper(), value=x) for x in "abc"],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True)

    @discord.ui.button(label="Approve", custom_id="vote:approve", style=discord.ButtonStyle.success)
    async def approve(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(
            content=f"Approved by {interaction.user.display_name}", view=None
        )


class HarnessBot(commands.AutoShardedBot):
    """A bot shaped like the real one, with a few commands covering each flow."""

    def __init__(self, label: str) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=RecordingTree,
            help_command=None,
        )
        self.label = label
        self.errors: list[BaseException] = []
        self.settings: dict[str, int] = {}
        self.slow_delay = 0.5

    async def setup_hook(self) -> None:
        for command in build_commands():
            self.tree.add_command(command, guild=GUILD)
        self.tree.add_command(ping)
        await self.tree.sync(guild=GUILD)
        await self.tree.sync()


@app_commands.command(name="ping", description="Global liveness check")
async def ping(interaction: discord.Interaction) -> None:
    assert isinstance(interaction.client, HarnessBot)
    await interaction.response.send_message(f"pong from {interaction.client.label}")


def build_commands() -> list[app_commands.Command[Any, Any, Any] | app_commands.Group]:
    """Fresh command objects per bot (a command belongs to one tree)."""
    config = app_commands.Group(name="config", description="Configure the bot")

    @config.command(name="channel", description="Choose where something is posted")
    @app_commands.describe(purpose="What the channel is for", channel="The channel")
    @app_commands.choices(
        purpose=[
            app_commands.Choice(name="Digest", value="digest"),
            app_commands.Choice(name="Alerts", value="alerts"),
        ]
    )
    async def config_channel(
        interaction: discord.Interaction,
        purpose: app_commands.Choice[str],
        channel: discord.TextChannel,
    ) -> None:
        assert isinstance(interaction.client, HarnessBot)
        interaction.client.settings[purpose.value] = channel.id
        await interaction.response.send_message(
            f"{purpose.value} -> {channel.mention} ({interaction.channel.name})",  # type: ignore[union-attr]
            ephemeral=True,
        )

    @config.command(name="timezone", description="Set the timezone")
    async def config_timezone(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"timezone {name}", ephemeral=True)

    @config_timezone.autocomplete("name")
    async def zone_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in ZONES if current.lower() in z.lower()]

    @app_commands.command(name="report", description="Build a report")
    async def report(
        interaction: discord.Interaction, days: app_commands.Range[int, 1, 31] = 7
    ) -> None:
        await interaction.response.defer(thinking=True)
        embed = discord.Embed(title="Weekly report", description=f"Last {days} days")
        embed.add_field(name="Meetings", value="3").set_footer(text="MAG bot")
        data = discord.File(io.BytesIO(b"meeting,count\nMAG,3\n"), filename="report.csv")
        await interaction.followup.send(embed=embed, file=data)

    @app_commands.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @app_commands.command(name="agenda", description="Propose an agenda item")
    async def agenda(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(AgendaModal())

    @app_commands.command(name="vote", description="Start a vote")
    async def vote(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Vote on the agenda", view=VoteView(timeout=60))

    @app_commands.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.client, HarnessBot)
        await asyncio.sleep(interaction.client.slow_delay)
        await interaction.response.send_message("too late")

    @app_commands.command(name="announce", description="Post in a channel")
    async def announce(
        interaction: discord.Interaction, channel: discord.TextChannel, text: str
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        try:
            message = await channel.send(text)
        except discord.Forbidden as exc:
            await interaction.followup.send(f"forbidden {exc.code}", ephemeral=True)
        else:
            await interaction.followup.send(f"posted {message.id}", ephemeral=True)

    @app_commands.command(name="dm", description="DM someone")
    async def dm(interaction: discord.Interaction, user: discord.Member) -> None:
        try:
            await user.send(f"hello {user.display_name}")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"cannot DM ({exc.code})", ephemeral=True)
        else:
            await interaction.response.send_message("sent", ephemeral=True)

    @app_commands.command(name="whois", description="Show a member and a role")
    async def whois(
        interaction: discord.Interaction, user: discord.Member, role: discord.Role
    ) -> None:
        has = role in user.roles
        await interaction.response.send_message(f"{user.display_name} / {role.name} / {has}")

    @app_commands.command(name="admin", description="Admins only")
    @app_commands.default_permissions(manage_guild=True)
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"admin ok {interaction.permissions.manage_guild}", ephemeral=True
        )

    @app_commands.command(name="oops", description="Fails after a public deferral")
    async def oops(interaction: discord.Interaction) -> None:
        # What the real bot's error path does: drop the public "thinking…", answer privately.
        await interaction.response.defer(thinking=True)
        await interaction.delete_original_response()
        await interaction.followup.send("something went wrong", ephemeral=True)

    return [config, report, feedback, agenda, vote, slow, announce, dm, whois, admin, oops]


# -- fixtures ---------------------------------------------------------------------------


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    bot: HarnessBot


def build_guild(fake: FakeDiscord) -> FakeGuild:
    guild = fake.add_guild(GUILD_ID, name="IGF MAG")
    guild.add_role(ADMIN_ROLE_ID, "MAG Chair", permissions=MANAGE_GUILD)
    guild.add_role(MEMBER_ROLE_ID, "MAG Member")
    guild.add_channel(CATEGORY_ID, "mag", type=4)
    guild.add_channel(GENERAL_ID, "general", parent_id=CATEGORY_ID)
    guild.add_channel(DIGEST_ID, "digest", parent_id=CATEGORY_ID)
    guild.add_channel(VOICE_ID, "meeting-room", type=2)
    guild.add_member(ADMIN_ID, "chair", roles=[ADMIN_ROLE_ID])
    guild.add_member(MEMBER_ID, "member", roles=[MEMBER_ROLE_ID], nick="A Member")
    guild.add_member(SHY_ID, "shy")
    fake.close_dms(SHY_ID)
    return guild


async def start_bot(fake: FakeDiscord, label: str) -> tuple[HarnessBot, asyncio.Task[None]]:
    bot = HarnessBot(label)
    task = asyncio.create_task(bot.start(fake.token))
    return bot, task


async def stop_bot(bot: HarnessBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    await asyncio.wait_for(task, 5)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[World]:
    fake = FakeDiscord()
    await fake.start()
    guild = build_guild(fake)
    with fake.patch_discord():
        bot, task = await start_bot(fake, "first")
        try:
            await fake.wait_for_commands(GUILD_ID)
            await fake.wait_for_commands(None)
            await fake.wait_connected()
            yield World(fake, guild, bot)
        finally:
            await stop_bot(bot, task)
            await fake.stop()


@pytest.fixture
def clean(world: World) -> World:
    """Start a test with empty problem lists, and end it with none either."""
    world.fake.unexpected.clear()
    world.fake.protocol_errors.clear()
    world.bot.errors.clear()
    return world


# -- tests with the real bot -------------------------------------------------------


async def test_login_and_sync_used_the_fake(clean: World) -> None:
    fake, bot = clean.fake, clean.bot
    assert fake.api_base == discord.http.Route.BASE
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.app_id
    names = {c["name"] for c in fake.commands(GUILD_ID)}
    assert names == {c.name for c in build_commands()}
    assert [c["name"] for c in fake.commands()] == ["ping"]
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None and guild.name == "IGF MAG" and guild.me is not None
    assert {c.name for c in guild.text_channels} == {"general", "digest"}
    assert fake.identifies[0]["intents"] == discord.Intents(guilds=True).value
    assert fake.identifies[0]["shard"] == [0, 1]
    fake.assert_clean()


async def test_subcommand_with_choice_and_channel(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(
        GUILD_ID, GENERAL_ID, ADMIN_ID, "config channel", purpose="digest", channel=DIGEST_ID
    )
    reply = await ix.wait_reply()
    assert reply.content == f"digest -> <#{DIGEST_ID}> (general)"
    assert reply.ephemeral and ix.callback is not None and ix.callback.type == 4
    assert clean.bot.settings["digest"] == DIGEST_ID
    sub = ix.payload["data"]["options"][0]
    assert sub["type"] == 1 and sub["name"] == "channel"
    assert str(DIGEST_ID) in ix.payload["data"]["resolved"]["channels"]
    assert fake.channel_messages(GENERAL_ID) == []  # ephemeral: not in the channel
    fake.assert_clean()


async def test_resolved_member_and_role(clean: World) -> None:
    ix = await clean.fake.run_command(
        GUILD_ID, GENERAL_ID, ADMIN_ID, "whois", user=MEMBER_ID, role=MEMBER_ROLE_ID
    )
    reply = await ix.wait_reply()
    assert reply.content == "A Member / MAG Member / True"
    assert not reply.ephemeral
    assert clean.fake.channel_messages(GENERAL_ID)[-1].id == reply.id
    assert "user" not in ix.payload["data"]["resolved"]["members"][str(MEMBER_ID)]
    clean.fake.assert_clean()


async def test_invalid_invocations_fail_fast(clean: World) -> None:
    fake = clean.fake
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("config channel", {"purpose": "digest"}, "required option 'channel'"),
        ("config channel", {"purpose": "weekly", "channel": DIGEST_ID}, "not a choice"),
        ("config channel", {"purpose": "digest", "channel": VOICE_ID}, "accepts"),
        ("config channel", {"purpose": "digest", "channel": DIGEST_ID, "x": 1}, "unknown option"),
        ("config", {}, "is a group"),
        ("config nope", {}, "no subcommand"),
        ("report", {"days": 40}, "outside"),
        ("report", {"days": "7"}, "INTEGER"),
        ("whois", {"user": 42, "role": MEMBER_ROLE_ID}, "unknown to the fake"),
        ("nothing", {}, "no slash command"),
        ("admin", {}, "hides /admin"),
    ]
    dispatched = len(fake.interactions)
    for path, options, message in cases:
        with pytest.raises(AssertionError, match=message):
            await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, path, **options)
    with pytest.raises(AssertionError, match="not a member"):
        await fake.run_command(GUILD_ID, GENERAL_ID, 99, "vote")
    assert len(fake.interactions) == dispatched  # nothing reached the bot


async def test_default_permissions_and_member_permissions(clean: World) -> None:
    ix = await clean.fake.run_command(GUILD_ID, GENERAL_ID, ADMIN_ID, "admin")
    assert (await ix.wait_reply()).content == "admin ok True"
    assert int(ix.payload["member"]["permissions"]) & MANAGE_GUILD
    assert not int(ix.payload["member"]["permissions"]) & ADMINISTRATOR


async def test_defer_then_followup_with_embed_and_file(clean: World) -> None:
    ix = await clean.fake.run_command(GUILD_ID, DIGEST_ID, MEMBER_ID, "report", days=14)
    reply = await ix.wait_reply()
    assert ix.callback is not None and ix.callback.type == 5
    assert "Weekly report" in reply.embed_text() and "Last 14 days" in reply.embed_text()
    assert "Meetings\n3" in reply.embed_text() and "MAG bot" in reply.embed_text()
    assert reply.attachments == [("report.csv", b"meeting,count\nMAG,3\n")]
    assert not reply.loading and reply is ix.original  # the followup replaced "thinking…"
    assert clean.fake.channel_messages(DIGEST_ID)[-1] is reply
    clean.fake.assert_clean()


async def test_delete_original_then_ephemeral_followup(clean: World) -> None:
    ix = await clean.fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "oops")
    reply = await ix.wait_reply()
    assert reply.content == "something went wrong" and reply.ephemeral
    assert ix.original is not None and ix.original.deleted and ix.original is not reply
    assert [r.kind for r in ix.responses] == ["callback", "delete", "followup"]
    assert ix.original not in clean.fake.channel_messages(GENERAL_ID, include_ephemeral=True)
    clean.fake.assert_clean()


async def test_channel_message_edit_and_delete(clean: World) -> None:
    channel = clean.bot.get_channel(GENERAL_ID)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("draft", file=discord.File(io.BytesIO(b"v1"), filename="a.txt"))
    stored = clean.fake.message(sent.id)
    assert stored.attachments == [("a.txt", b"v1")] and sent.attachments[0].filename == "a.txt"
    assert await sent.attachments[0].read() == b"v1"  # served by the fake too
    edited = await sent.edit(content="final")
    assert stored.content == edited.content == "final" and stored.attachments == [("a.txt", b"v1")]
    await edited.edit(attachments=[])
    assert stored.attachments == [] and len(stored.edits) == 2
    await edited.delete()
    assert stored.deleted and stored not in clean.fake.channel_messages(GENERAL_ID)
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(sent.id)
    clean.fake.assert_clean()


async def test_modal_round_trip(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "feedback")
    await ix.wait_callback()
    assert ix.modal is not None and ix.modal["title"] == "Feedback"
    with pytest.raises(AssertionError, match="the interaction was not answered with a message"):
        await ix.wait_reply(timeout=0.1)
    with pytest.raises(AssertionError, match="no field"):
        await fake.submit_modal(ix, {"topic": "x", "subject": "y"})
    with pytest.raises(AssertionError, match="required"):
        await fake.submit_modal(ix, {"details": "no topic"})
    submit = await fake.submit_modal(ix, {"topic": "Budget"})
    reply = await submit.wait_reply()
    assert reply.content == "Thanks: Budget / -" and reply.ephemeral
    fake.assert_clean()


async def test_modal_with_labels_and_select(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "agenda")
    await ix.wait_callback()
    assert ix.modal is not None and [c["type"] for c in ix.modal["components"]] == [18, 18]
    with pytest.raises(AssertionError, match="not options"):
        await fake.submit_modal(ix, {"question": "Why?", "kind": ["other"]})
    submit = await fake.submit_modal(ix, {"question": "Fund NRIs?", "kind": ["budget"]})
    assert (await submit.wait_reply()).content == "budget: Fund NRIs?"
    fake.assert_clean()


async def test_button_and_select_on_a_view(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, ADMIN_ID, "vote")
    message = await ix.wait_reply()
    assert message.content == "Vote on the agenda"
    labels = [c.get("label") or c.get("placeholder") for c in message.iter_components()]
    assert "Approve" in labels and "Pick an item" in labels

    with pytest.raises(AssertionError, match="not options"):
        await fake.click(message, "vote:pick", MEMBER_ID, values=["z"])
    picked = await fake.click(message, "Pick an item", MEMBER_ID, values=["b"])
    assert (await picked.wait_reply()).content == "picked b"

    approved = await fake.click(message, "Approve", MEMBER_ID)
    edited = await approved.wait_reply()
    assert approved.callback is not None and approved.callback.type == 7
    assert edited.id == message.id and edited.content == "Approved by A Member"
    assert edited.components == [] and len(edited.edits) == 1
    with pytest.raises(AssertionError, match="no component"):
        await fake.click(message, "Approve", MEMBER_ID)
    fake.assert_clean()


async def test_autocomplete(clean: World) -> None:
    choices = await clean.fake.autocomplete(
        GUILD_ID, GENERAL_ID, MEMBER_ID, "config timezone", focused="name", name="europe/z"
    )
    assert [c["value"] for c in choices] == ["Europe/Zurich", "Europe/Zagreb"]
    ix = clean.fake.interactions[-1]
    assert ix.payload["type"] == 4
    assert ix.payload["data"]["options"][0]["options"][0]["focused"] is True
    clean.fake.assert_clean()


async def test_dm_and_closed_dms(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, ADMIN_ID, "dm", user=MEMBER_ID)
    assert (await ix.wait_reply()).content == "sent"
    assert [m.content for m in fake.dm_messages(MEMBER_ID)] == ["hello A Member"]
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, ADMIN_ID, "dm", user=SHY_ID)
    assert (await ix.wait_reply()).content == "cannot DM (50007)"
    assert fake.dm_messages(SHY_ID) == []
    # A global command used in the user's DM with the bot (guild_id None).
    ix = await fake.run_command(None, 0, MEMBER_ID, "ping")
    assert "member" not in ix.payload and ix.payload["user"]["id"] == str(MEMBER_ID)
    assert (await ix.wait_reply()).content == "pong from first"
    assert [m.content for m in fake.dm_messages(MEMBER_ID)] == ["hello A Member", "pong from first"]
    with pytest.raises(AssertionError, match="no slash command /vote"):
        await fake.run_command(None, 0, MEMBER_ID, "vote")  # a guild command
    fake.assert_clean()


async def test_bot_losing_permissions(clean: World) -> None:
    fake, guild = clean.fake, clean.guild
    view_only = discord.Permissions(view_channel=True).value
    everyone = guild.everyone.permissions
    guild.update_role(guild.id, permissions=view_only)
    guild.update_role(guild.bot_role.id, permissions=0)
    try:
        ix = await fake.run_command(
            GUILD_ID, GENERAL_ID, ADMIN_ID, "announce", channel=DIGEST_ID, text="nope"
        )
        assert (await ix.wait_reply()).content == "forbidden 50013"
        assert ix.payload["app_permissions"] == str(view_only)
        await fake.flush_gateway()
        bot_guild = clean.bot.get_guild(GUILD_ID)
        assert bot_guild is not None and not bot_guild.me.guild_permissions.send_messages
    finally:
        guild.update_role(guild.id, permissions=everyone)
        guild.update_role(guild.bot_role.id, permissions=DEFAULT_BOT_PERMISSIONS)
    await fake.flush_gateway()
    assert clean.bot.get_guild(GUILD_ID).me.guild_permissions.send_messages  # type: ignore[union-attr]
    fake.assert_clean()


async def test_channel_forbidden_raises_in_bot(clean: World) -> None:
    fake = clean.fake
    fake.fail_channel(DIGEST_ID, 403)
    ix = await fake.run_command(
        GUILD_ID, GENERAL_ID, ADMIN_ID, "announce", channel=DIGEST_ID, text="hi"
    )
    reply = await ix.wait_reply()
    assert reply.content == "forbidden 50013" and reply.ephemeral
    assert [m.content for m in fake.channel_messages(DIGEST_ID)].count("hi") == 0
    fake.assert_clean()


async def test_rate_limit_is_retried(clean: World) -> None:
    fake = clean.fake
    fake.fail_channel(DIGEST_ID, 429, times=2)
    start = len(fake.requests)
    ix = await fake.run_command(
        GUILD_ID, GENERAL_ID, ADMIN_ID, "announce", channel=DIGEST_ID, text="agenda"
    )
    posted = await fake.wait_for_message(DIGEST_ID, lambda m: m.content == "agenda")
    reply = await ix.wait_reply()
    assert reply.content == f"posted {posted.id}"
    assert posted.allowed_mentions == {"parse": []}  # AllowedMentions.none()
    statuses = [
        r.status
        for r in fake.requests[start:]
        if r.method == "POST" and r.path.endswith(f"/channels/{DIGEST_ID}/messages")
    ]
    assert statuses == [429, 429, 200]
    fake.assert_clean()


async def test_unknown_route_is_recorded(clean: World) -> None:
    route = discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=GUILD_ID)
    with pytest.raises(discord.NotFound):
        await clean.bot.http.request(route)
    assert clean.fake.unexpected == [("GET", f"/api/v10/guilds/{GUILD_ID}/bans")]
    with pytest.raises(AssertionError, match="unexpected route"):
        clean.fake.assert_clean()


async def test_discord_limits_are_enforced(clean: World) -> None:
    fake, bot = clean.fake, clean.bot
    channel = bot.get_channel(GENERAL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035 and "content" in too_long.value.text
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send(embeds=[])
    assert empty.value.code == 50006
    bad = [{"name": "Bad Name", "description": "spaces and capitals", "type": 1}]
    with pytest.raises(discord.HTTPException):
        await bot.http.bulk_upsert_guild_commands(fake.app_id, GUILD_ID, bad)
    assert "config" in {c["name"] for c in fake.commands(GUILD_ID)}  # nothing overwritten
    kinds = [e.kind for e in fake.protocol_errors]
    assert kinds == ["invalid_form_body", "empty_message", "invalid_command_schema"]


async def test_late_callback_is_caught(clean: World) -> None:
    fake, bot = clean.fake, clean.bot
    fake.interaction_timeout, bot.slow_delay = 0.2, 0.3
    try:
        ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "slow")
        await ix.wait_for(lambda ix: bool(ix.protocol_errors) and bool(bot.errors))
    finally:
        fake.interaction_timeout = 3.0
    assert [e.kind for e in ix.protocol_errors] == ["late_callback"]
    assert [e.kind for e in fake.protocol_errors] == ["late_callback"]
    assert ix.responses[0].status == 404 and not ix.acknowledged
    original = getattr(bot.errors[0], "original", None)
    assert isinstance(original, discord.NotFound) and original.code == 10062


async def test_duplicate_callback_is_rejected(clean: World) -> None:
    fake = clean.fake
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "ping")
    await ix.wait_reply()
    url = f"{fake.api_base}/interactions/{ix.id}/{ix.token}/callback"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": 4, "data": {"content": "again"}}) as response,
    ):
        assert response.status == 400
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["code"] == 40060
    assert [e.kind for e in ix.protocol_errors] == ["duplicate_callback"]
    assert [r.status for r in ix.responses] == [200, 400]


async def test_gateway_reconnect_resumes(clean: World) -> None:
    fake = clean.fake
    identifies, resumes = len(fake.identifies), len(fake.resumes)
    assert await fake.disconnect_all() == 1
    # Sent while the bot is away: buffered in the session, replayed on RESUME.
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "ping")
    assert (await ix.wait_reply()).content == "pong from first"
    assert len(fake.resumes) == resumes + 1 and len(fake.identifies) == identifies
    fake.assert_clean()


async def test_bot_restart_gets_a_new_session(clean: World) -> None:
    fake = clean.fake
    before = len(fake.identifies)
    second, task = await start_bot(fake, "second")
    try:
        await fake.wait_connected(identifies=before + 1)
        sessions = fake.sessions
        assert sessions[-1]["id"] != sessions[0]["id"]
        ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "ping")
        assert (await ix.wait_reply()).content == "pong from second"
        assert second.get_guild(GUILD_ID) is not None  # it got its own GUILD_CREATE
    finally:
        await stop_bot(second, task)
    # The second bot closed its session; interactions go back to the first one.
    ix = await fake.run_command(GUILD_ID, GENERAL_ID, MEMBER_ID, "ping")
    assert (await ix.wait_reply()).content == "pong from first"
    assert fake.sessions[-1]["valid"] is False
    fake.assert_clean()


async def test_guild_added_while_connected(clean: World) -> None:
    fake, bot = clean.fake, clean.bot
    guild_id = GUILD_ID + (1 << 22) * 7
    guild = fake.add_guild(guild_id, name="NRI Network")
    guild.add_channel(guild_id + 1, "nri")
    guild.add_member(MEMBER_ID, "member")
    await fake.flush_gateway()
    cached = bot.get_guild(guild_id)
    assert cached is not None and cached.get_channel(guild_id + 1) is not None
    ix = await fake.run_command(guild_id, guild_id + 1, MEMBER_ID, "ping")
    assert (await ix.wait_reply()).content == "pong from first"
    fake.assert_clean()


# -- the fake alone: sharding over raw websockets ------------------------------------------


async def _frames_until(ws: aiohttp.ClientWebSocketResponse, event: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads((await ws.receive(timeout=5)).data)
        frames.append(frame)
        if frame.get("t") == event:
            return frames


async def test_sharding_routes_guilds_and_interactions() -> None:
    fake = FakeDiscord(shard_count=2)
    await fake.start()
    on_shard = {0: GUILD_ID, 1: GUILD_ID + (1 << 22)}
    for shard, guild_id in on_shard.items():
        assert (guild_id >> 22) % 2 == shard
        guild = fake.add_guild(guild_id, name=f"shard {shard}")
        guild.add_channel(guild_id + 1, "general")
        guild.add_member(MEMBER_ID, "member")
    headers = {"Authorization": f"Bot {fake.token}"}
    schema = [{"name": "ping", "description": "Ping", "type": 1}]
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.get(f"{fake.api_base}/gateway/bot") as response:
                assert response.headers["Content-Type"] == "application/json"
                assert (await response.json())["shards"] == 2
            sockets = {}
            for shard in (0, 1):
                ws = await http.ws_connect(f"{fake.gateway_url}?v=10&encoding=json")
                assert (await ws.receive_json())["op"] == 10
                await ws.send_json({"op": 1, "d": None})
                assert (await ws.receive_json())["op"] == 11
                identify = {"token": fake.token, "intents": 1, "shard": [shard, 2]}
                await ws.send_json({"op": 2, "d": identify})
                frames = await _frames_until(ws, "GUILD_CREATE")
                ready = frames[0]["d"]
                assert ready["resume_gateway_url"] == fake.gateway_url
                assert [g["id"] for g in ready["guilds"]] == [str(on_shard[shard])]
                assert [f["s"] for f in frames] == [1, 2]
                sockets[shard] = ws
            url = f"{fake.api_base}/applications/{fake.app_id}/commands"
            async with http.put(url, json=schema) as response:
                assert response.status == 200
            ix = await fake.run_command(on_shard[1], on_shard[1] + 1, MEMBER_ID, "ping")
            frame = (await _frames_until(sockets[1], "INTERACTION_CREATE"))[-1]
            assert frame["d"]["guild_id"] == str(on_shard[1]) and frame["s"] == 3
            callback = f"{fake.api_base}/interactions/{ix.id}/{ix.token}/callback?with_response=1"
            async with http.post(callback, json={"type": 4, "data": {"content": "pong"}}) as r:
                body = await r.json()
            assert body["resource"]["message"]["content"] == "pong"
            assert (await ix.wait_reply()).content == "pong"

            # An unknown session cannot RESUME: op 9, so the client IDENTIFYs again.
            ws = await http.ws_connect(fake.gateway_url)
            await ws.receive_json()
            await ws.send_json({"op": 6, "d": {"token": "x", "session_id": "nope", "seq": 1}})
            assert (await ws.receive_json()) == {"op": 9, "s": None, "t": None, "d": False}
            await ws.close()
            for socket in sockets.values():
                await socket.close()
        assert fake.unexpected == [] and fake.protocol_errors == []
    finally:
        await fake.stop()
