"""The sandbox as a newcomer meets it: ``magbot sandbox``, lines typed in, what it prints.

One whole story through standard input and output, in a subprocess like a
person at a terminal: configure the server, submit a proposal through its
form, nominate a panellist who confirms from a direct message, score the
proposal, see its balance chart saved, download a calendar, add a deadline
and move the clock until its reminder arrives. (That the state survives a
restart, and ``--reset``, are tested in-process in test_app.py.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL_TOKEN_LOOKALIKE = "MTAxMDEwMTAxMDEwMTAxMDEwMQ.real.must-never-be-used-0123456789"


def run_sandbox(
    workdir: Path, lines: list[str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot sandbox`` in ``workdir`` with ``lines`` as its input."""
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "DEV_"))
    }
    env = {
        **keep,
        "PYTHONPATH": str(ROOT),
        "TZ": "UTC",
        # A configured bot must not leak into the sandbox: neither its token nor its database.
        "DISCORD_TOKEN": REAL_TOKEN_LOOKALIKE,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/real.db",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--data-dir", "state", *args],
        input="\n".join(lines) + "\n",
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def after(output: str, prompt_line: str) -> str:
    """Return what the sandbox printed after the echoed ``prompt_line`` up to the next prompt."""
    start = output.index(prompt_line) + len(prompt_line)
    following = re.search(r"^\w+ #[\w-]+> ", output[start:], re.MULTILINE)
    return output[start : start + following.start()] if following else output[start:]


def test_a_whole_story_at_the_prompt(tmp_path: Path) -> None:
    due = (datetime.now(UTC) + timedelta(days=2, hours=2)).strftime("%Y-%m-%d %H:%M")
    story = [
        "/help",
        ":who",
        # The admin sets the server up.
        "/config channel purpose:reminders channel:#reminders",
        "/config channel purpose:digest channel:#digest",
        "/config role purpose:mag role:@MAG",
        "/config role purpose:secretariat role:@Secretariat",
        "/config cycle name:IGF 2027",
        # Bad input: one clear line each.
        "/nope",
        "/config cycle",
        "/config digest frequency:hourly",
        "/deadline view number:soon",
        "/as Nobody",
        "hello bot",
        # A proposer submits through the form, then nominates a panellist.
        "/as Olu",
        "/config show",
        "/proposal submit format:Roundtable duration:60 subtheme:Data Governance & Trust",
        "Who governs the data commons?",
        r"A roundtable on data governance\nin developing countries.",
        "Who decides? Who benefits?",
        "A set of principles.",
        "Online moderator and hybrid tools.",
        "/panellist nominate proposal:data commons name:Priya Nair stakeholder:civil society "
        "region:Asia-Pacific gender:female member:@Priya",
        # The nominee reads the direct message and confirms.
        "/as Priya",
        ":press Confirm",
        # A MAG member scores it.
        "/as Mina",
        "/review score proposal:1 score:4 comment:Strong and focused.",
        "/balance proposal number:1",
        # The secretariat adds a deadline, downloads the calendar, and time passes.
        "/as Sam",
        f"/deadline add title:MAG evaluation closes due:{due} timezone:UTC offsets:1d",
        "/deadline calendar",
        ":advance 2d",
        ":time",
        ":quit",
    ]
    result = run_sandbox(tmp_path, story)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    notices = re.findall(r"^! .*$", out, re.MULTILINE)
    assert not notices, "the bot logged errors or broke Discord's rules:\n" + out

    # The first lines say what this is and how to reach the real Discord instead.
    head = out.splitlines()[:4]
    assert "SANDBOX" in head[0] and any("DISCORD_TOKEN" in line for line in head)

    assert "/config channel" in after(out, "Ada #general> /help")
    assert "Mina Rahman" in after(out, "Ada #general> :who")
    assert "The reminders channel is now #reminders." in out
    assert "The MAG role is now @MAG." in out

    bad = {
        "Ada #general> /nope": "There is no command /nope",
        "Ada #general> /config cycle": "/config cycle needs name:",
        "Ada #general> /config digest frequency:hourly": "'hourly' is not a choice",
        "Ada #general> /deadline view number:soon": "number:",
        "Ada #general> /as Nobody": "There is no member 'Nobody'",
        "Ada #general> hello bot": "Type a slash command",
    }
    for typed, explanation in bad.items():
        answer = after(out, typed + "\n").strip()
        assert answer.startswith("✗") and explanation in answer, (typed, answer)
        assert len(answer.splitlines()) == 1, (typed, answer)

    assert "Discord does not offer /config to Olu Outsider" in after(
        out, "Olu #general> /config show"
    )
    assert "MAG Bot opens a form: Propose a workshop" in out
    assert "Submitted: WS #1 · Who governs the data commons?" in out
    nominated = after(out, "Olu #general> /panellist nominate")
    assert "Nominated #1 on WS #1" in nominated
    assert "sent a direct message to Priya Nair" in nominated
    read = after(out, "Olu #general> /as Priya")
    assert "in your direct messages" in read and "[1 Confirm] [2 Decline]" in read
    assert "You confirmed" in after(out, "Priya #general> :press Confirm")
    assert "Scored WS #1" in after(out, "Mina #general> /review score")
    balance = after(out, "Mina #general> /balance proposal number:1")
    chart = re.search(r"balance\.png \([\d.]+ KB\), saved to (\S+\.png)", balance)
    assert chart and "[image] balance.png" in balance, balance
    assert (tmp_path / chart.group(1)).read_bytes().startswith(b"\x89PNG")
    assert "Deadline #1 added." in out

    calendar = after(out, "Sam #general> /deadline calendar")
    saved = re.search(r"saved to (\S+\.ics)", calendar)
    assert saved, calendar
    assert (tmp_path / saved.group(1)).read_bytes().startswith(b"BEGIN:VCALENDAR")

    advanced = after(out, "Sam #general> :advance 2d")
    assert "The clock moves 2d forward" in advanced
    assert "in #reminders" in advanced and "MAG evaluation closes" in advanced
    assert "(real time + 2d" in after(out, "Sam #general> :time")

    state = tmp_path / "state"
    assert (state / "sandbox.db").exists() and (state / "bot.log").exists()
    assert not (tmp_path / "real.db").exists(), "the sandbox touched the configured database"
    assert REAL_TOKEN_LOOKALIKE not in (state / "bot.log").read_text()
