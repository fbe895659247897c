"""Where the bot's time goes: one command, run back to back, while py-spy samples the bot.

    python -m bench.profile --command "deadline list" [--seconds 15] [--out profile.txt]

The rig of ``bench.roundtrip`` (the real bot on an IGF-scale database in a
local Discord); ``py-spy`` (``pip install py-spy``, not a dependency) records
the bot process while the bench sends the command, one at a time, for
``--seconds``. The output is py-spy's ``raw`` format (collapsed stacks, one
line per stack with its sample count), and the bench prints the 40 functions
with the most samples, own and in total.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.rig import Command, start_rig, stop_rig
from bench.roundtrip import COMMANDS, filled


def summarise(raw: Path, top: int = 40) -> tuple[str, dict[str, object]]:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    out = [f"{samples} samples", "", "own:"]
    out += [f"{n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    out += ["", "total:"]
    out += [f"{n / samples:6.1%}  {f}" for f, n in total.most_common(top)]
    figures = {
        "samples": samples,
        "own": {f: round(n / samples, 4) for f, n in own.most_common(10)},
        "total": {f: round(n / samples, 4) for f, n in total.most_common(25)},
    }
    return "\n".join(out), figures


async def main(command: Command, seconds: float, out: Path, rate: int) -> None:
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    runs = 0
    if spy is None:
        raise SystemExit("py-spy is needed: .venv/bin/pip install py-spy")
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory(prefix="magbot-profile-") as tmp:
        rig = await start_rig(Path(tmp))
        try:
            for _ in range(20):
                await rig.timed(filled(command, rnd), rnd)
            pid = rig.bot.pid
            record = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
                "--output", str(out), "--duration", str(int(seconds)), "--nonblocking",
            )  # fmt: skip
            end = time.monotonic() + seconds
            runs = 0
            while time.monotonic() < end:
                await rig.timed(filled(command, rnd), rnd)
                runs += 1
            await record.wait()
            print(f"{runs} runs of /{command.path}")
        finally:
            await stop_rig(rig)
    text, figures = summarise(out)
    print(text)
    print(json.dumps({"command": command.path, "seconds": seconds, "runs": runs, **figures}))


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default="deadline list")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=int, default=500, help="samples a second")
    parser.add_argument("--out", type=Path, default=Path("profile.txt"))
    args = parser.parse_args()
    (command,) = [c for c in COMMANDS if c.path == args.command]
    asyncio.run(main(command, args.seconds, args.out, args.rate))


if __name__ == "__main__":
    run()
