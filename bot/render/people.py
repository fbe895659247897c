"""The secretariat's view of a person record and the claims about them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.render.embeds import INFO, OK, WARN, clip
from bot.render.text import one_line, safe
from bot.services.people import FlagView, Merged, PersonChange, PersonView

LINKS = {
    "invitation": "confirmed by them (an invitation from someone else)",
    "own": "confirmed by them on a nomination they made themselves",
    "secretariat": "set by the secretariat",
}
SOURCES = {
    "nominator": "as first stated by a nominator",
    "person": "confirmed by the person",
    "invitee": "name, affiliation, group and region seen and confirmed by the invited account; "
    "gender and country as stated by a nominator",
    "secretariat": "set by the secretariat",
}
KINDS = {
    "account": "another Discord account",
    "details": "different details",
    "disputed": "the person says the details are wrong",
}


def _claimed(flag: FlagView) -> str:
    claimed: dict[str, Any] = flag.claimed
    if flag.kind == "account":
        who = f"<@{claimed.get('user_id')}>"
        return f"{who} {'confirmed as them' if claimed.get('confirmed') else 'named as them'}"
    if flag.kind == "details":
        return ", ".join(f"{k.replace('_', ' ')}: {one_line(v, 60)}" for k, v in claimed.items())
    return f"raised by <@{claimed.get('user_id')}>"


def flag_line(flag: FlagView, *, with_person: bool = True) -> str:
    """Return one open flag on one line."""
    person = f"person #{flag.person_id} {one_line(flag.person_name, 60)} · " if with_person else ""
    raised = f" by <@{flag.raised_by}>" if flag.raised_by else ""
    where = f" on nomination #{flag.participation_id}" if flag.participation_id else ""
    kind = KINDS.get(flag.kind, flag.kind)
    return f"`flag #{flag.id}` {person}{kind}{where}{raised}: {_claimed(flag)}"


def person_embed(person: PersonView, *, heading: str = "") -> discord.Embed:
    """Return a person record with every claim made about them (secretariat only)."""
    embed = discord.Embed(
        title=clip(f"Person #{person.id}: {one_line(person.name, 100)}", 256),
        description=heading or None,
        colour=WARN if person.flags else INFO,
    )
    embed.add_field(name="Affiliation", value=one_line(person.affiliation or "—"), inline=True)
    embed.add_field(
        name="Details",
        value=f"{one_line(person.stakeholder_group)} · {one_line(person.region)} · "
        f"{person.gender}"
        + (f" · {one_line(person.country)}" if person.country else "")
        + f"\n*{SOURCES.get(person.details_source, person.details_source)}*",
        inline=False,
    )
    account = (
        f"<@{person.user_id}> ({LINKS.get(person.link_source or '', 'linked')})"
        if person.user_id
        else "none confirmed"
    )
    embed.add_field(name="Discord account", value=account, inline=True)
    embed.add_field(
        name="Contact", value=safe(person.contact or "none confirmed", 200), inline=True
    )
    seats = []
    for seat in person.seats:
        bits = [f"`#{seat.participation_id}` {seat.proposal_label} · {seat.role} · {seat.status}"]
        if seat.nominated_by:
            bits.append(f"by <@{seat.nominated_by}>")
        if seat.invitee_id:
            bits.append(f"invitation to <@{seat.invitee_id}>")
        if seat.answered_by:
            bits.append(f"answered by <@{seat.answered_by}>")
        elif seat.answer_source == "secretariat":
            bits.append("answer recorded by the secretariat")
        if seat.contact_claim:
            bits.append(f"contact given: {one_line(seat.contact_claim, 80)}")
        seats.append(" · ".join(bits))
    embed.add_field(
        name=f"Nominations ({len(person.seats)})",
        value=clip("\n".join(seats) or "none", 1024),
        inline=False,
    )
    if person.flags:
        embed.add_field(
            name=f"To check ({len(person.flags)})",
            value=clip("\n".join(flag_line(f, with_person=False) for f in person.flags), 1024),
            inline=False,
        )
    embed.set_footer(
        text="/person link · /person correct · /person merge · /person split · /person dismiss"
    )
    return embed


def flags_embed(flags: Sequence[FlagView]) -> discord.Embed:
    """Return the claims waiting for the secretariat."""
    embed = discord.Embed(title="Identity claims to check", colour=WARN if flags else OK)
    if not flags:
        embed.description = "Nothing to check: no claim disagrees with a person's record."
        return embed
    embed.description = clip("\n".join(flag_line(f) for f in flags), 4000)
    embed.set_footer(text=f"{len(flags)} open · /person view person:<id> to settle them")
    return embed


def change_embed(change: PersonChange, what: str) -> discord.Embed:
    """Return a person record after a change, saying what changed."""
    settled = f" {change.resolved_flags} flag(s) settled." if change.resolved_flags else ""
    if change.voided_answers:
        settled += (
            f" {change.voided_answers} answer(s) another account gave were voided: those "
            "nominations are unanswered again; invite them with `/panellist status`."
        )
    return person_embed(change.person, heading=f"{what}.{settled}")


def merged_embed(merged: Merged) -> discord.Embed:
    """Return the person record that absorbed another."""
    extra = f", {merged.dropped} duplicate seat(s) dropped" if merged.dropped else ""
    return person_embed(
        merged.person,
        heading=f"Person #{merged.source_id} merged in: {merged.moved} nomination(s) moved{extra}.",
    )
