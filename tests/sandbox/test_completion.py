"""Tab completion from the registered commands and the demo server."""

from __future__ import annotations

import pytest

from bot.sandbox.completion import Completions
from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.slash import Directory
from bot.sandbox.world import build_demo_world
from tests.sandbox.test_slash import SCHEMA


@pytest.fixture
def completions() -> Completions:
    fake = FakeDiscord()
    suggested: list[tuple[str, str, str]] = []

    def suggest(path: str, focused: str, typed: str, others: dict[str, str]) -> list[str]:
        suggested.append((path, focused, typed))
        return ["12", "13"]

    return Completions(
        lambda: SCHEMA,
        Directory(fake, build_demo_world(fake)),
        [":help", ":who", ":as"],
        labels=lambda: ["Confirm", "Decline"],
        suggest=suggest,
    )


@pytest.mark.parametrize(
    ("before", "word", "expected"),
    [
        ("", "/c", ["/config "]),
        ("", "/", ["/as ", "/config ", "/help ", "/review "]),
        ("", ":w", [":who "]),
        ("/config ", "c", ["channel ", "cycle "]),
        ("/config subthemes ", "", ["set "]),
        ("/config channel ", "", ["purpose:", "channel:"]),
        ("/config channel purpose:digest ", "", ["channel:"]),
        ("/config channel ", "purpose:d", ["purpose:digest"]),
        ("/config channel purpose:digest ", "channel:#d", ["channel:#digest"]),
        ("/review score ", "role:@S", ["role:@Secretariat"]),
        ("/review score ", "member:@Mi", ["member:@Mina Rahman"]),
        ("/review score ", "merge:", ["merge:true", "merge:false"]),
        ("/review score ", "proposal:data", ["proposal:12", "proposal:13"]),
        ("/as ", "L", ["Lucía"]),
        (":press ", "C", ["Confirm"]),
        ("/nope ", "", []),
    ],
)
def test_candidates(completions: Completions, before: str, word: str, expected: list[str]) -> None:
    assert completions.candidates(before, word) == expected


def test_readline_hook_walks_the_candidates() -> None:
    fake = FakeDiscord()
    completions = Completions(
        lambda: SCHEMA,
        Directory(fake, build_demo_world(fake)),
        [],
        context=lambda: ("/config c", len("/config ")),
    )
    assert [completions.complete("c", n) for n in range(3)] == ["channel ", "cycle ", None]
