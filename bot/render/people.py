"""The secretariat's view of a person record and the claims about them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.i18n import N_, _, ngettext
from bot.render.embeds import INFO, OK, WARN, clip
from bot.render.text import one_line, safe
from bot.services.people import FlagView, Merged, PersonChange, PersonView
from bot.services.taxonomy import participation_label, role_label

LINKS = {
    "invitation": N_("confirmed by them (an invitation from someone else)"),
    "own": N_("confirmed by them on a nomination they made themselves"),
    "secretariat": N_("set by the secretariat"),
}
SOURCES = {
    "nominator": N_("as first stated by a nominator"),
    "person": N_("confirmed by the person"),
    "invitee": N_(
        "name, affiliation, group and region seen and confirmed by the invited account; "
        "gender and country as stated by a nominator"
    ),
    "secretariat": N_("set by the secretariat"),
}
KINDS = {
    "account": N_("another Discord account"),
    "details": N_("different details"),
    "disputed": N_("the person says the details are wrong"),
}
# The details a nomination may claim differently (``bot.services.panellists.DETAILS``).
DETAIL_NAMES = {
    "stakeholder_group": N_("stakeholder group"),
    "region": N_("region"),
    "gender": N_("gender"),
    "country": N_("country"),
}


def _label(labels: dict[str, str], key: str) -> str:
    """Return the label of ``key`` in the current language, or ``key`` when it has none."""
    label = labels.get(key)
    return _(label) if label is not None else key


def _detail(name: str) -> str:
    label = DETAIL_NAMES.get(name)
    return _(label) if label is not None else name.replace("_", " ")


def _claimed(flag: FlagView) -> str:
    claimed: dict[str, Any] = flag.claimed
    if flag.kind == "account":
        who = f"<@{claimed.get('user_id')}>"
        if claimed.get("confirmed"):
            return _("{who} confirmed as them", who=who)
        return _("{who} named as them", who=who)
    if flag.kind == "details":
        # The claimed values are vocabulary (groups, regions, genders) or a typed country.
        return ", ".join(f"{_detail(k)}: {one_line(_(str(v)), 60)}" for k, v in claimed.items())
    if claimed.get("source") == "email":
        # The person's own corrections, typed on the consent page (no Discord account).
        typed = ", ".join(
            f"{_detail(k)}: {one_line(str(v), 80)}" for k, v in claimed.items() if k != "source"
        )
        return _("corrected by the nominee on the consent page: {values}", values=typed)
    return _("raised by {who}", who=f"<@{claimed.get('user_id')}>")


def flag_line(flag: FlagView, *, with_person: bool = True) -> str:
    """Return one open flag on one line."""
    person = (
        _("person #{id} {name}", id=flag.person_id, name=one_line(flag.person_name, 60)) + " · "
        if with_person
        else ""
    )
    what = _label(KINDS, flag.kind)
    if flag.participation_id:
        what = _("{what} on nomination #{id}", what=what, id=flag.participation_id)
    if flag.raised_by:
        what = _("{what} by {who}", what=what, who=f"<@{flag.raised_by}>")
    return _(
        "`flag #{id}` {person}{what}: {claimed}",
        id=flag.id,
        person=person,
        what=what,
        claimed=_claimed(flag),
    )


def person_embed(person: PersonView, *, heading: str = "") -> discord.Embed:
    """Return a person record with every claim made about them (secretariat only)."""
    embed = discord.Embed(
        title=clip(_("Person #{id}: {name}", id=person.id, name=one_line(person.name, 100)), 256),
        description=heading or None,
        colour=WARN if person.flags else INFO,
    )
    embed.add_field(name=_("Affiliation"), value=one_line(person.affiliation or "—"), inline=True)
    embed.add_field(
        name=_("Details"),
        value=f"{one_line(_(person.stakeholder_group))} · {one_line(_(person.region))} · "
        f"{_(person.gender)}"
        + (f" · {one_line(person.country)}" if person.country else "")
        + f"\n*{_label(SOURCES, person.details_source)}*",
        inline=False,
    )
    link = LINKS.get(person.link_source or "")
    how = _(link) if link is not None else _("linked")
    account = f"<@{person.user_id}> ({how})" if person.user_id else _("none confirmed")
    embed.add_field(name=_("Discord account"), value=account, inline=True)
    embed.add_field(
        name=_("Contact"),
        value=safe(person.contact, 200) if person.contact else _("none confirmed"),
        inline=True,
    )
    seats = []
    for seat in person.seats:
        bits = [
            f"`#{seat.participation_id}` {seat.proposal_label} · {role_label(seat.role)} · "
            f"{participation_label(seat.status)}"
        ]
        if seat.nominated_by:
            bits.append(_("by {who}", who=f"<@{seat.nominated_by}>"))
        if seat.invitee_id:
            bits.append(_("invitation to {who}", who=f"<@{seat.invitee_id}>"))
        if seat.answered_by:
            bits.append(_("answered by {who}", who=f"<@{seat.answered_by}>"))
        elif seat.answer_source == "secretariat":
            bits.append(_("answer recorded by the secretariat"))
        if seat.contact_claim:
            bits.append(_("contact given: {contact}", contact=one_line(seat.contact_claim, 80)))
        seats.append(" · ".join(bits))
    embed.add_field(
        name=_("Nominations ({count})", count=len(person.seats)),
        value=clip("\n".join(seats) or _("none"), 1024),
        inline=False,
    )
    if person.flags:
        embed.add_field(
            name=_("To check ({count})", count=len(person.flags)),
            value=clip("\n".join(flag_line(f, with_person=False) for f in person.flags), 1024),
            inline=False,
        )
    embed.set_footer(
        text=_("/person link · /person correct · /person merge · /person split · /person dismiss")
    )
    return embed


def flags_embed(flags: Sequence[FlagView]) -> discord.Embed:
    """Return the claims waiting for the secretariat."""
    embed = discord.Embed(title=_("Identity claims to check"), colour=WARN if flags else OK)
    if not flags:
        embed.description = _("Nothing to check: no claim disagrees with a person's record.")
        return embed
    embed.description = clip("\n".join(flag_line(f) for f in flags), 4000)
    embed.set_footer(
        text=ngettext(
            "{n} open · /person view person:<id> to settle them",
            "{n} open · /person view person:<id> to settle them",
            len(flags),
        )
    )
    return embed


def change_embed(change: PersonChange, what: str) -> discord.Embed:
    """Return a person record after a change, saying what changed."""
    sentences = [_("{what}.", what=what)]
    if change.resolved_flags:
        sentences.append(
            ngettext("{n} flag(s) settled.", "{n} flag(s) settled.", change.resolved_flags)
        )
    if change.voided_answers:
        sentences.append(
            ngettext(
                "{n} answer(s) another account gave were voided: those "
                "nominations are unanswered again; invite them with `/panellist status`.",
                "{n} answer(s) another account gave were voided: those "
                "nominations are unanswered again; invite them with `/panellist status`.",
                change.voided_answers,
            )
        )
    return person_embed(change.person, heading=" ".join(sentences))


def merged_embed(merged: Merged) -> discord.Embed:
    """Return the person record that absorbed another."""
    if merged.dropped:
        heading = ngettext(
            "Person #{id} merged in: {n} nomination(s) moved, {dropped} duplicate seat(s) dropped.",
            "Person #{id} merged in: {n} nomination(s) moved, {dropped} duplicate seat(s) dropped.",
            merged.moved,
            id=merged.source_id,
            dropped=merged.dropped,
        )
    else:
        heading = ngettext(
            "Person #{id} merged in: {n} nomination(s) moved.",
            "Person #{id} merged in: {n} nomination(s) moved.",
            merged.moved,
            id=merged.source_id,
        )
    return person_embed(merged.person, heading=heading)
