"""The IGF's own vocabularies, in one place: groups, regions, genders, formats, roles.

Every feature (proposals, panellists, profiles, balance statistics) checks
and shows these names from here, spelled as DOMAIN.md spells them. Matching
what a user typed ignores case, accents and extra spaces (``fold``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

from bot.errors import InvalidInput
from bot.i18n import N_, _, pgettext
from bot.services.text import clean_block, clean_line, quoted

STAKEHOLDER_GROUPS: Final = (
    N_("Government"),
    N_("Intergovernmental Organization"),
    N_("Civil Society"),
    N_("Technical Community"),
    N_("Private Sector"),
)
UN_REGIONS: Final = (
    N_("African Group"),
    N_("Asia-Pacific Group"),
    N_("Eastern European Group"),
    N_("Latin American and Caribbean Group (GRULAC)"),
    N_("Western European and Others Group (WEOG)"),
)
# IGF forms also use "Intergovernmental Organization" as the region of people
# who represent an IGO.
REGIONS: Final = (*UN_REGIONS, N_("Intergovernmental Organization"))
PREFER_NOT_TO_SAY: Final = N_("Prefer not to say")
# Gender is always given by the person (or whoever nominates them), never guessed.
GENDERS: Final = (N_("Female"), N_("Male"), N_("Non-binary"), N_("Other"), PREFER_NOT_TO_SAY)

FORMATS: Final = (
    N_("Roundtable"),
    N_("Panel"),
    N_("Break-out Group Discussions"),
    N_("Debate"),
    N_("Birds of a Feather"),
    N_("Flash Session"),
    N_("Other"),
)
DURATIONS: Final = (30, 60, 90)
# Session kinds, by stored key; only workshops are scored by the MAG.
KINDS: Final[Mapping[str, str]] = {
    "workshop": N_("Workshop"),
    "main_session": N_("Main Session"),
    "open_forum": N_("Open Forum"),
    "town_hall": N_("Town Hall"),
    "lightning_talk": N_("Lightning Talk"),
    "launch_award": N_("Launch/Award"),
    "networking": N_("Networking Session"),
    "dynamic_coalition": N_("Dynamic Coalition"),
    "day_0": N_("Day 0 Event"),
}
KIND_PREFIXES: Final[Mapping[str, str]] = {
    "workshop": "WS",
    "main_session": "MS",
    "open_forum": "OF",
    "town_hall": "TH",
    "lightning_talk": "LT",
    "launch_award": "LA",
    "networking": "NS",
    "dynamic_coalition": "DC",
    "day_0": "D0",
}
SCORED_KINDS: Final = frozenset({"workshop"})

ROLES: Final[Mapping[str, str]] = {
    "organizer": N_("Organizer"),
    "speaker": N_("Speaker"),
    "onsite_moderator": N_("Onsite moderator"),
    "online_moderator": N_("Online moderator"),
    "rapporteur": N_("Rapporteur"),
}
ATTENDANCE: Final[Mapping[str, str]] = {"onsite": N_("Onsite"), "online": N_("Online")}

PROPOSAL_STATUSES: Final = (
    "submitted",
    "screened_out",
    "under_review",
    "accepted",
    "conditional",
    "waitlisted",
    "rejected",
    "merged",
    "withdrawn",
)
# Proposals nobody scores any more (a later review round leaves them out).
CLOSED_TO_REVIEW: Final = ("withdrawn", "screened_out", "merged")
PARTICIPATION_STATUSES: Final = ("nominated", "invited", "confirmed", "declined", "withdrawn")
# A participation in one of these still puts the person on the session.
ACTIVE_PARTICIPATION: Final = ("nominated", "invited", "confirmed")

# Rule holding the extra stakeholder groups a guild adds to the five.
EXTRA_GROUPS_RULE: Final = "taxonomy.extra_stakeholder_groups"


def fold(text: str) -> str:
    """Return ``text`` for comparison: case, accents and repeated spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def digest(text: str) -> str:
    """Return a fixed-length key for folded text (indexes stay small however long it is)."""
    return hashlib.sha256(text.encode()).hexdigest()


def person_key(name: str, affiliation: str | None) -> str:
    """Return the key under which a guild knows one person: name and affiliation, folded."""
    return digest(f"{fold(name)}\x1f{fold(affiliation or '')}")


def affiliation_key(affiliation: str | None) -> str | None:
    """Return the key of an affiliation for conflict checks (None when there is none)."""
    folded = fold(affiliation or "")
    return digest(folded) if folded else None


def tidy(text: str | None) -> str:
    """Return typed text on one line, cleaned (``bot.services.text.clean_line``)."""
    return clean_line(text)


def tidy_block(text: str | None) -> str:
    """Return typed multi-line text, cleaned (``bot.services.text.clean_block``)."""
    return clean_block(text)


def match(value: str, choices: Iterable[str], what: str) -> str:
    """Return the choice ``value`` names (ignoring case and accents), or raise InvalidInput.

    ``what`` names the kind of choice ("format"), marked with ``N_`` by the
    caller: the refusal shows it translated. The choices are listed as they
    are accepted and stored (English for the IGF's vocabularies).
    """
    options = list(choices)
    wanted = fold(value)
    for option in options:
        if fold(option) == wanted:
            return option
    # A unique prefix ("civil") or abbreviation ("GRULAC", "WEOG") is enough.
    for found in (
        [o for o in options if fold(o).startswith(wanted)] if wanted else [],
        [o for o in options if f"({wanted})" in fold(o)] if wanted else [],
    ):
        if len(found) == 1:
            return found[0]
    listed = ", ".join(quoted(o, 100) for o in options)
    raise InvalidInput(
        _(
            "{value} is not a {what}. Choose one of: {listed}.",
            value=quoted(value, 60),
            what=_(what),
            listed=listed,
        )
    )


def match_key(value: str, choices: Mapping[str, str], what: str) -> str:
    """Return the key of ``choices`` named by its key or label, or raise InvalidInput.

    ``what`` as for ``match``.
    """
    wanted = fold(value).replace("_", " ")
    for key, label in choices.items():
        if wanted in (fold(key).replace("_", " "), fold(label)):
            return key
    listed = ", ".join(quoted(label, 100) for label in choices.values())
    raise InvalidInput(
        _(
            "{value} is not a {what}. Choose one of: {listed}.",
            value=quoted(value, 60),
            what=_(what),
            listed=listed,
        )
    )


def stakeholder_groups(rules: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the guild's stakeholder groups: the five of the IGF, then any it added."""
    extra = [tidy(str(g)) for g in rules.get(EXTRA_GROUPS_RULE) or () if tidy(str(g))]
    known = {fold(g) for g in STAKEHOLDER_GROUPS}
    return (*STAKEHOLDER_GROUPS, *(g for g in extra if fold(g) not in known))


def kind_label(kind: str) -> str:
    """Return a session kind as people say it, in the current language."""
    label = KINDS.get(kind)
    return _(label) if label is not None else kind.replace("_", " ").title()


def proposal_label(kind: str, number: int) -> str:
    """Return a proposal's display number, such as ``WS #12``."""
    return f"{KIND_PREFIXES.get(kind, 'S')} #{number}"


def participation_label(status: str) -> str:
    """Return a nomination status as people read it, in the current language."""
    labels = {
        "nominated": pgettext("nomination status", "nominated"),
        "invited": pgettext("nomination status", "invited"),
        "confirmed": pgettext("nomination status", "confirmed"),
        "declined": pgettext("nomination status", "declined"),
        "withdrawn": pgettext("nomination status", "withdrawn"),
    }
    return labels.get(status, status)


def role_label(role: str) -> str:
    """Return a role on a session (speaker, moderator…) in the current language."""
    label = ROLES.get(role)
    return _(label) if label is not None else role
