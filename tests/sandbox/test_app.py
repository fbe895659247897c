"""Starting the sandbox: from ``magbot run`` in a terminal, in-process, with ``--reset``."""

from __future__ import annotations

import ast
import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.sandbox.app import Paths, run_sandbox
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _read_until(fd: int, wanted: bytes, timeout: float) -> bytes:
    """Read from a pty until ``wanted`` appears (AssertionError with what came on timeout)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {wanted!r} in:\n{seen.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_run_without_a_token_in_a_terminal_starts_the_sandbox_and_says_so(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), TERM="dumb")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    try:
        shown = _read_until(leader, b"Ada #general> ", timeout=60).decode()
        first = shown.splitlines()[:4]
        assert first[0].startswith("No DISCORD_TOKEN is set, so this is the SANDBOX")
        assert any("To connect to the real Discord instead" in line for line in first)
        os.write(leader, b"/conf\t")  # readline completes from the synced commands
        _read_until(leader, b"/config ", timeout=10)
        process.send_signal(signal.SIGINT)  # Ctrl-C at the prompt leaves cleanly
        _read_until(leader, b"Bye.", timeout=20)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    assert (tmp_path / "data" / "sandbox" / "sandbox.db").exists()
    assert not (tmp_path / "data" / "magbot.db").exists()


async def _chat(
    data_dir: Path, lines: list[str], *, reset: bool = False, **env: str
) -> tuple[int, str]:
    out = io.StringIO()
    status = await run_sandbox(
        load_settings(env),
        data_dir=data_dir,
        reset=reset,
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    return status, out.getvalue()


async def test_the_sandbox_keeps_its_state_and_reset_starts_over(tmp_path) -> None:
    state = tmp_path / "state"
    status, out = await _chat(state, ["/config cycle name:IGF 2031", ":advance 1d", ":quit"])
    assert status == 0, out
    assert "First time here?" in out
    assert "The cycle is now IGF 2031." in out
    status, out = await _chat(state, ["/config show", ":time"])  # end of input leaves too
    assert status == 0, out
    assert "IGF 2031" in out and "(real time + 1d)" in out
    assert "First time here?" not in out
    status, out = await _chat(state, ["/config show", ":time"], reset=True)
    assert status == 0, out
    assert "Started over" in out
    assert "IGF 2031" not in out and "Server configuration" in out
    assert "real time +" not in out


def test_reset_removes_the_database_the_clock_and_the_files_only(tmp_path) -> None:
    paths = Paths(tmp_path)
    paths.files.mkdir()
    for path in (paths.database, paths.clock, paths.files / "chart.png", paths.log):
        path.write_text("x")
    removed = paths.reset()
    assert paths.database in removed and paths.clock in removed
    assert not paths.database.exists() and not paths.clock.exists()
    assert not any(paths.files.iterdir())
    assert paths.log.exists(), "the log is kept: it explains what happened before"
    assert paths.reset() == [paths.files]


@pytest.mark.parametrize("module", sorted((ROOT / "bot/sandbox/fakediscord").glob("*.py")))
def test_the_fake_discord_imports_nothing_of_the_bot(module: Path) -> None:
    """It stands in for Discord: it may not lean on the bot, its services or its storage."""
    allowed = {"discord", "aiohttp", "yarl"} | set(sys.stdlib_module_names)
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in allowed, f"{module.name} imports {name}"


async def test_an_error_the_bot_logs_is_one_line_in_the_chat_and_details_in_the_log(
    tmp_path,
) -> None:
    status, out = await _chat(
        tmp_path, ["/explode deferred:true"], EXTRA_COGS="tests.e2e.faulty_cog"
    )
    assert status == 0, out
    notices = [line for line in out.splitlines() if line.startswith("! ")]
    assert len(notices) == 1, out
    assert "The bot logged an error: unexpected error" in notices[0]
    assert "Traceback" not in out and "caught fire" not in out
    assert "Sorry, something went wrong" in out
    log = (tmp_path / "bot.log").read_text()
    assert "RuntimeError: the database caught fire" in log
