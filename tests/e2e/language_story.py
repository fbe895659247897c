"""One short story told in another language, end to end, and a detector of English left in it.

A module per language runs ``story`` against its own bot (``test_language_*.py``):
the server is configured, a proposal is submitted through the form, a
panellist nominated and asked for consent in a DM they answer with the
(translated) button, the secretariat asks for the programme's balance with
its chart, and a deadline's reminder reaches the reminders channel. Every
message anyone sees on the way is read by ``english_in``: a line holding a
phrase of the English catalogue that the language's catalogue does not
share fails the story, naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, catalogue_path, pgettext, speaking
from bot.localisation import NAME
from bot.sandbox.fakediscord import FakeMessage
from tests.e2e.conftest import World, due_in

# A phrase long enough to be a sentence's, not a name or a number.
_MIN_WORDS = 3
_MIN_CHARS = 14
_BREAKS = re.compile(r"\{[^{}]*\}|\*\*|`|\n|[<>()\[\]|•·:;!?]")


def _pieces(text: str) -> list[str]:
    return [p.strip(" ,.-—") for p in _BREAKS.split(text)]


@cache
def english_phrases(code: str) -> frozenset[str]:
    """Return the English phrases of the catalogue that ``code``'s translations do not hold."""
    with catalogue_path(code).open("rb") as file:
        po = read_po(file, locale=LANGUAGES[code].babel)
    phrases: set[str] = set()
    kept: set[str] = set()
    for message in po:
        if not message.id or message.context == NAME:
            continue
        ids = message.id if isinstance(message.id, list | tuple) else (message.id,)
        strings = message.string if isinstance(message.string, list | tuple) else (message.string,)
        for translated in strings:
            kept.update(_pieces(translated or ""))
        for source in ids:
            for piece in _pieces(source):
                if len(piece) >= _MIN_CHARS and len(piece.split()) >= _MIN_WORDS:
                    phrases.add(piece)
    return frozenset(phrases - kept)


def seen(message: FakeMessage) -> str:
    """Return everything a reader sees of a message: text, embeds, buttons, menus, alt text."""
    parts = [message.text()]
    for component in message.iter_components():
        parts += [str(component.get(k)) for k in ("label", "placeholder") if component.get(k)]
        parts += [str(o.get("label", "")) for o in component.get("options") or []]
    parts += [str(a.get("description") or "") for a in message.attachment_payloads]
    return "\n".join(p for p in parts if p)


def english_in(code: str, text: str) -> list[str]:
    """Return the lines of ``text`` that hold an English phrase of the catalogue."""
    phrases = english_phrases(code)
    return [
        line
        for line in text.splitlines()
        if any(phrase in line for phrase in phrases if len(phrase) <= len(line))
    ]


@dataclass
class Story:
    """What one run of the story showed, by who saw it."""

    code: str
    shown: list[tuple[str, str]] = field(default_factory=list)

    def saw(self, where: str, message: FakeMessage) -> FakeMessage:
        self.shown.append((where, seen(message)))
        return message

    def leaks(self) -> list[str]:
        return [
            f"{where}: {line!r}"
            for where, text in self.shown
            for line in english_in(self.code, text)
        ]


@dataclass(frozen=True)
class Texts:
    """What the people of the story type, in their language."""

    title: str
    description: str
    questions: str
    outcomes: str
    hybrid: str
    rationale: str
    deadline: str


async def story(world: World, code: str, texts: Texts) -> Story:
    """Tell the story in ``code``; return everything it showed."""
    told = Story(code)
    w = world
    for purpose, channel in (("reminders", "reminders"), ("log", "mag-log")):
        told.saw(
            "/config channel",
            await w.run("admin", "config channel", purpose=purpose, channel=w.channels[channel]),
        )
    for purpose in ("mag", "secretariat"):
        told.saw(
            "/config role",
            await w.run("admin", "config role", purpose=purpose, role=w.roles[purpose]),
        )
    told.saw("/config language", await w.run("admin", "config language", language=code))
    told.saw("/config show", await w.run("admin", "config show"))
    told.saw("/help", await w.run("outsider", "help"))

    ix = await w.invoke(
        "outsider",
        "proposal submit",
        format="Roundtable",
        duration=60,
        subtheme="Data Governance & Trust",
    )
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    labels = [
        str(c.get("label") or "")
        for row in ix.modal["components"]
        for c in (row, row.get("component") or {}, *(row.get("components") or []))
    ]
    told.shown.append(("the proposal form", "\n".join([ix.modal.get("title", ""), *labels])))
    form = {
        "title": texts.title,
        "description": texts.description,
        "policy_questions": texts.questions,
        "expected_outcomes": texts.outcomes,
        "hybrid_plan": texts.hybrid,
    }
    submitted = told.saw(
        "the form's answer", await (await w.fake.submit_modal(ix, form)).wait_reply()
    )
    assert submitted.ephemeral and texts.title in submitted.embed_text()

    guest = w.users["guest"]
    nominated = told.saw(
        "/panellist nominate",
        await w.run(
            "outsider",
            "panellist nominate",
            proposal=1,
            name="Priya Nair",
            stakeholder="Civil Society",
            region="Asia-Pacific Group",
            gender="Female",
            affiliation="Digital Rights Lab",
            member=guest,
            contact="priya@example.org",
            rationale=texts.rationale,
        ),
    )
    assert nominated.ephemeral
    invitation = told.saw("the invitation DM", await w.fake.wait_for_dm(guest, timeout=10))
    with speaking(code):
        confirm = pgettext("button", "Confirm")
    assert confirm != "Confirm", "the button's label is not translated"
    clicked = await w.fake.click(invitation, confirm, guest)
    await clicked.wait_callback()
    told.saw("the invitation, answered", w.fake.message(invitation.id))
    told.saw(
        "the proposer's DM",
        await w.fake.wait_for_dm(
            w.users["outsider"], lambda m: "Priya" not in m.text(), timeout=10
        ),
    )

    balance = told.saw("/balance programme", await w.run("secretariat", "balance programme"))
    assert balance.attachments, "no chart"

    told.saw(
        "/deadline add",
        await w.run(
            "secretariat", "deadline add", title=texts.deadline, due=due_in(66), offsets="1m"
        ),
    )
    told.saw(
        "the reminder",
        await w.fake.wait_for_message(
            w.channels["reminders"], lambda m: texts.deadline in m.embed_text(), timeout=30
        ),
    )
    return told
