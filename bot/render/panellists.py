"""Embeds for nominations, the nominee's invitation, and MAG profiles."""

from __future__ import annotations

import discord

from bot.render.embeds import INFO, OK, WARN, clip
from bot.render.proposals import answer_text, attendance_text, heading, person_line
from bot.render.text import one_line, safe
from bot.services.panellists import (
    Forgotten,
    Invitation,
    Nomination,
    PanellistEntry,
    ParticipationChange,
)
from bot.services.profiles import ProfileView
from bot.services.taxonomy import ROLES


def nomination_embed(nomination: Nomination) -> discord.Embed:
    """Return the answer to a nomination."""
    entry = nomination.entry
    n = entry.nominee
    embed = discord.Embed(
        title=f"Nominated #{n.participation_id} on {entry.label}",
        description=person_line(n),
        colour=OK,
    )
    if nomination.reused:
        embed.add_field(
            name="Already known",
            value=f"{one_line(n.name)} is already known here (person #{n.person_id}, same name "
            "and affiliation): the stored details were kept."
            + (
                " What you stated differently was sent to the secretariat to check."
                if nomination.flagged
                else ""
            ),
            inline=False,
        )
    embed.set_footer(
        text="Only the nominee answers for themselves. The proposer or the secretariat can "
        "send the invitation again or withdraw it with /panellist status."
    )
    return embed


def entry_embed(entry: PanellistEntry) -> discord.Embed:
    """Return one nomination in full, as the reader may see it."""
    n = entry.nominee
    embed = discord.Embed(
        title=clip(f"Nomination #{n.participation_id}: {one_line(n.name, 100)}", 256), colour=INFO
    )
    embed.add_field(name="Proposal", value=heading(entry.proposal, 200), inline=False)
    embed.add_field(name="Role", value=ROLES.get(n.role, n.role), inline=True)
    embed.add_field(name="Attendance", value=attendance_text(n.attendance))
    embed.add_field(name="Status", value=n.status)
    embed.add_field(name="Stakeholder group", value=one_line(n.stakeholder_group), inline=True)
    embed.add_field(name="Region", value=one_line(n.region), inline=True)
    embed.add_field(name="Affiliation", value=one_line(n.affiliation or "—"), inline=True)
    if n.country:
        embed.add_field(name="Country", value=one_line(n.country), inline=True)
    if n.invitee_id:
        embed.add_field(name="Invitation to", value=f"<@{n.invitee_id}>", inline=True)
    if n.linked_user_id:
        embed.add_field(name="Confirmed account", value=f"<@{n.linked_user_id}>", inline=True)
    if n.nominated_by:
        embed.add_field(name="Nominated by", value=f"<@{n.nominated_by}>", inline=True)
    if n.rationale:
        embed.add_field(name="Rationale", value=safe(n.rationale, 1000), inline=False)
    answer = answer_text(n)
    embed.add_field(name="Their answer", value=answer or "not yet", inline=True)
    if n.gender is not None:
        embed.add_field(name="Gender", value=n.gender, inline=True)
        contact = n.contact or (
            f"{n.contact_claim} (given by the nominator)" if n.contact_claim else "—"
        )
        embed.add_field(name="Contact", value=safe(contact, 250), inline=True)
        if n.open_flags:
            embed.add_field(
                name="Identity flags",
                value=f"{n.open_flags} to check: `/person view person:{n.person_id}`",
                inline=True,
            )
        embed.set_footer(text=f"Person #{n.person_id} · personal data: secretariat only")
    return embed


def entries_embed(entries: list[PanellistEntry]) -> discord.Embed:
    """Return a list of nominations, newest first."""
    embed = discord.Embed(title="Nominations", colour=INFO)
    if not entries:
        embed.description = "No nomination matches."
        return embed
    lines = [f"`{e.label}` {person_line(e.nominee)}" for e in entries]
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(text=f"{len(entries)} shown, newest first · /panellist view id")
    return embed


def invitation_embed(
    entry: PanellistEntry, guild_name: str, *, mag_member: bool = False
) -> discord.Embed:
    """Return the direct message asking a nominee to confirm, with what was said about them."""
    n = entry.nominee
    embed = discord.Embed(
        title=clip(f"You are invited to {heading(entry.proposal, 200)}", 256),
        description=(
            f"In **{one_line(guild_name)}**, you were nominated as "
            f"**{ROLES.get(n.role, n.role).lower()}** ({attendance_text(n.attendance)}). "
            "Do you agree to take part? Confirming also agrees that the organisers keep "
            "your name, affiliation and the details below for this session. If something "
            "below is wrong, press *Details are wrong* and the secretariat will correct it."
        ),
        colour=INFO,
    )
    embed.add_field(
        name="As stated by the nominator",
        value=f"{one_line(n.name, 100)}"
        + (f", {one_line(n.affiliation, 100)}" if n.affiliation else "")
        + f"\n{one_line(n.stakeholder_group, 60)} · {one_line(n.region, 60)}",
        inline=False,
    )
    if n.rationale:
        embed.add_field(name="Why you", value=safe(n.rationale, 1000), inline=False)
    if mag_member:
        embed.add_field(
            name="⚠️ You are a MAG member",
            value="Confirming gives you a conflict of interest on this proposal: it leaves "
            "your review queue and a score of yours on it stops counting.",
            inline=False,
        )
    embed.set_footer(
        text=f"Nomination #{n.participation_id} · Stop invitations: no more invitations from "
        "this server."
    )
    return embed


def answered_embed(change: ParticipationChange) -> discord.Embed:
    """Return the invitation after the nominee answered."""
    confirmed = change.after == "confirmed"
    text = (
        "✅ You confirmed. Thank you!"
        if confirmed
        else "You declined. Thank you for letting the organisers know."
    )
    if confirmed and change.conflict_note:
        text += (
            "\nAs a MAG member you now have a conflict of interest on this proposal: "
            "it leaves your review queue and a score of yours does not count."
        )
    embed = discord.Embed(
        title=heading(change.entry.proposal), description=text, colour=OK if confirmed else WARN
    )
    embed.set_footer(text=f"Nomination #{change.entry.nominee.participation_id}")
    return embed


def change_text(change: ParticipationChange) -> str:
    """Return one line about a nomination's new status, naming nobody (DMs reach others)."""
    return (
        f"Nomination #{change.entry.nominee.participation_id} on {change.entry.label} "
        f"is now **{change.after}** (was {change.before})."
    )


def invitation_note(invitation: Invitation, sent: bool | None, participation_id: int) -> str:
    """Return what happened to an invitation, for the person who nominated or re-invited."""
    if not invitation.sent:
        return f"No invitation was sent: {invitation.reason}."
    if sent:
        return "They got a direct message to confirm or decline."
    return (
        "Their direct messages are closed: ask them to answer with "
        f"`/panellist status id:{participation_id}`."
    )


def forgotten_text(forgotten: Forgotten) -> str:
    """Return what ``/panellist forget`` erased."""
    where = f" from {', '.join(forgotten.proposals)}" if forgotten.proposals else ""
    return (
        f"Person #{forgotten.person_id} forgotten: personal data and "
        f"{forgotten.participations} participation(s){where} erased. "
        "The audit keeps only that this happened."
    )


def profile_embed(view: ProfileView) -> discord.Embed:
    """Return a MAG member's profile (gender only for them and the secretariat)."""
    embed = discord.Embed(
        title=f"MAG profile: {one_line(view.display_name or view.user_id)}", colour=INFO
    )
    embed.add_field(name="Member", value=f"<@{view.user_id}>", inline=True)
    embed.add_field(name="Stakeholder group", value=one_line(view.stakeholder_group), inline=True)
    embed.add_field(name="Region", value=one_line(view.region), inline=True)
    embed.add_field(name="Affiliation", value=one_line(view.affiliation or "—"), inline=True)
    if view.gender is not None:
        embed.add_field(name="Gender", value=view.gender, inline=True)
    if not view.has_role:
        embed.add_field(
            name="MAG role",
            value="No longer held: not assigned, counted or chased (the profile is kept).",
            inline=False,
        )
    embed.set_footer(
        text="The affiliation suggests conflicts of interest: proposals by the same organisation."
    )
    return embed
