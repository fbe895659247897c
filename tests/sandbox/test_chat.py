"""The terminal chat against a small in-process bot: menus, Label forms, files, DMs, edits.

The fake's own test bot (``tests/fakediscord/test_fake.py``) has one command
per kind of answer Discord allows; here it serves the demo server, and the
chat is driven through its input and output streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import discord

from bot.sandbox.clock import SandboxClock
from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.terminal import Terminal
from bot.sandbox.world import DemoWorld, build_demo_world
from tests.fakediscord.test_fake import HarnessBot, build_commands


class DemoHarnessBot(HarnessBot):
    """The fake's test bot, with its commands on the demo server."""

    def __init__(self, guild_id: int) -> None:
        super().__init__("chat")
        self.guild_id = guild_id

    async def setup_hook(self) -> None:
        guild = discord.Object(id=self.guild_id)
        for command in build_commands():
            self.tree.add_command(command, guild=guild)
        await self.tree.sync(guild=guild)


@contextlib.asynccontextmanager
async def running_bot() -> AsyncIterator[tuple[FakeDiscord, DemoWorld]]:
    fake = FakeDiscord()
    await fake.start()
    world = build_demo_world(fake)
    bot = DemoHarnessBot(world.guild.id)
    try:
        with fake.patch_discord():
            async with bot:
                runner = asyncio.create_task(bot.start(fake.token))
                await fake.wait_for_commands(world.guild.id)
                await fake.wait_connected()
                yield fake, world
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
    finally:
        await fake.stop()


async def chat(lines: list[str], files: Path) -> tuple[str, FakeDiscord]:
    async with running_bot() as (fake, world):
        out = io.StringIO()
        terminal = Terminal(
            fake,
            world,
            clock=SandboxClock(),
            run_jobs=lambda: asyncio.sleep(0),
            files_dir=files,
            stdin=io.StringIO("\n".join(lines) + "\n"),
            stdout=out,
            interactive=False,
            zone=UTC,
        )
        await terminal.run()
        fake.assert_clean()
        return out.getvalue(), fake


def section(output: str, typed: str) -> str:
    """What followed the echoed line ``typed`` (prompt included) until the next prompt."""
    start = output.index(typed + "\n") + len(typed) + 1
    following = [output.find(p, start) for p in ("Ada #", "Kofi #", "Mina #")]
    ends = [i for i in following if i >= 0]
    return output[start : min(ends)] if ends else output[start:]


async def test_menus_forms_files_direct_messages_and_edits(tmp_path: Path) -> None:
    out, _ = await chat(
        [
            "/vote",
            ":choose b",
            ":press Approve",
            "/agenda",
            "Fund NRIs?",
            "9",
            "Budget",
            "/report days:3",
            "/announce channel:#digest text:Hello <#920000000000000001>",
            "/whois user:@Mina role:@MAG",
            "/dm user:@Kofi",
            "/feedback",
            "",
            ":cancel",
            "/as Kofi",
            "/admin",
            ":choose b",
            ":nonsense",
            ":quit",
        ],
        tmp_path / "files",
    )
    assert "Traceback" not in out

    vote = section(out, "Ada #general> /vote")
    assert "Vote on the agenda" in vote and "[1 Approve]" in vote and "▾ Pick an item" in vote
    assert "MAG Bot · your click · only you:\n  picked b" in section(out, "Ada #general> :choose b")
    approved = section(out, "Ada #general> :press Approve")
    assert "edited" in approved and "Approved by Ada Admin" in approved

    agenda = section(out, "Ada #general> /agenda")
    assert "MAG Bot opens a form: Agenda item" in agenda
    assert "    2) Budget" in agenda and "✗ '9' is not one of" in agenda
    assert "budget: Fund NRIs?" in agenda

    report = section(out, "Ada #general> /report days:3")
    assert "│ Weekly report" in report and "│ Meetings: 3" in report and "│ — MAG bot" in report
    saved = re.search(r"saved to (\S+)", report)
    assert saved, report
    content = await asyncio.to_thread(Path(saved.group(1)).read_bytes)
    assert content == b"meeting,count\nMAG,3\n"

    assert "MAG Bot · in #digest:\n  Hello #general" in section(
        out, "text:Hello <#920000000000000001>"
    )
    assert "Mina Rahman / MAG / True" in section(out, "Ada #general> /whois user:@Mina role:@MAG")
    assert "sent a direct message to Kofi Mensah" in section(out, "Ada #general> /dm user:@Kofi")

    feedback = section(out, "Ada #general> /feedback")
    assert "✗ This field is required." in feedback and "Form closed: nothing was sent." in feedback

    switched = section(out, "Ada #general> /as Kofi")
    assert "in your direct messages:\n  hello Kofi Mensah" in switched
    assert "Discord does not offer /admin to Kofi Mensah" in section(out, "Kofi #general> /admin")
    # The vote was edited without its menu: nothing left to choose.
    assert "✗ There is no menu to choose from." in section(out, "Kofi #general> :choose b")
    assert "✗ There is no sandbox command :nonsense" in out
