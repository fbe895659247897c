"""Interaction tokens expire after 15 minutes: later followups and edits fail with 401."""

from __future__ import annotations

import discord
import pytest

from bot.sandbox.fakediscord import INTERACTION_TOKEN_LIFETIME, FakeDiscord, ManualClock

from .conftest import GUILD_ID, MEMBER_ID, TEXT_ID, build_guild, gateway_bot, running


async def defer(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)


async def test_followups_and_edits_fail_once_the_token_expired(clock: ManualClock) -> None:
    assert INTERACTION_TOKEN_LIFETIME == 15 * 60
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    async with running(fake), gateway_bot(fake, defer) as bot:
        ix = await fake.run_command(GUILD_ID, TEXT_ID, MEMBER_ID, "go")
        await ix.wait_callback()
        (interaction,) = bot.interactions

        clock.advance(INTERACTION_TOKEN_LIFETIME - 1)  # still valid
        await interaction.edit_original_response(content="nearly a quarter of an hour later")
        early = await interaction.followup.send("in time", wait=True)
        assert fake.protocol_errors == []

        clock.advance(2)
        with pytest.raises(discord.HTTPException) as followup:
            await interaction.followup.send("too late", wait=True)
        with pytest.raises(discord.HTTPException) as edit:
            await interaction.edit_original_response(content="too late")
        with pytest.raises(discord.HTTPException) as delete:
            await early.delete()
    for refused in (followup, edit, delete):
        assert (refused.value.status, refused.value.code) == (401, 50027)
        assert refused.value.text == "Invalid Webhook Token"
    assert [e.kind for e in ix.protocol_errors] == ["expired_token"] * 3
    assert [m.content for m in ix.followups] == ["in time"]
    assert ix.original is not None and ix.original.content == "nearly a quarter of an hour later"


async def test_the_lifetime_can_be_set(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock, interaction_token_lifetime=60)
    build_guild(fake)
    async with running(fake), gateway_bot(fake, defer) as bot:
        ix = await fake.run_command(GUILD_ID, TEXT_ID, MEMBER_ID, "go")
        await ix.wait_callback()
        clock.advance(61)
        with pytest.raises(discord.HTTPException) as late:
            await bot.interactions[0].followup.send("a minute late")
    assert late.value.status == 401
