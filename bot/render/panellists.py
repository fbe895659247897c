"""Embeds for nominations, the nominee's invitation, and MAG profiles."""

from __future__ import annotations

import discord

from bot.render.embeds import INFO, OK, WARN, clip
from bot.render.proposals import heading, one_line, person_line, safe
from bot.services.panellists import Forgotten, Nomination, PanellistEntry, ParticipationChange
from bot.services.profiles import ProfileView
from bot.services.taxonomy import ATTENDANCE, ROLES


def nomination_embed(nomination: Nomination) -> discord.Embed:
    """Return the answer to a nomination."""
    entry = nomination.entry
    embed = discord.Embed(
        title=f"Nominated #{entry.participation.id} on {entry.label}",
        description=person_line(entry.participation, entry.person, private=entry.private),
        colour=OK,
    )
    if nomination.reused:
        embed.add_field(
            name="Already known",
            value=f"{one_line(entry.person.name)} is already known here (person "
            f"#{entry.person.id}, same name and affiliation): the stored details were kept.",
            inline=False,
        )
    embed.set_footer(
        text="Status: nominated. The proposer or the secretariat moves it on with "
        "/panellist status; the nominee can confirm from a direct message."
    )
    return embed


def entry_embed(entry: PanellistEntry) -> discord.Embed:
    """Return one nomination in full (personal data only for the secretariat)."""
    pa, pe = entry.participation, entry.person
    embed = discord.Embed(
        title=clip(f"Nomination #{pa.id}: {one_line(pe.name, 100)}", 256), colour=INFO
    )
    embed.add_field(name="Proposal", value=heading(entry.proposal, 200), inline=False)
    embed.add_field(name="Role", value=ROLES.get(pa.role, pa.role), inline=True)
    embed.add_field(name="Attendance", value=ATTENDANCE.get(pa.attendance, pa.attendance))
    embed.add_field(
        name="Status", value=pa.status + (" (agreed)" if pa.agreed_in_principle else "")
    )
    embed.add_field(name="Stakeholder group", value=pe.stakeholder_group, inline=True)
    embed.add_field(name="Region", value=pe.region, inline=True)
    embed.add_field(name="Affiliation", value=one_line(pe.affiliation or "—"), inline=True)
    if pe.country:
        embed.add_field(name="Country", value=one_line(pe.country), inline=True)
    if pe.user_id:
        embed.add_field(name="Discord", value=f"<@{pe.user_id}>", inline=True)
    if pa.nominated_by:
        embed.add_field(name="Nominated by", value=f"<@{pa.nominated_by}>", inline=True)
    if pa.rationale:
        embed.add_field(name="Rationale", value=safe(pa.rationale, 1000), inline=False)
    if pa.consent:
        embed.add_field(name="Their answer", value=f"consent {pa.consent}", inline=True)
    if entry.private:
        embed.add_field(name="Gender", value=pe.gender, inline=True)
        embed.add_field(name="Contact", value=safe(pe.contact or "—", 200), inline=True)
        embed.set_footer(text=f"Person #{pe.id} · personal data: secretariat only")
    return embed


def entries_embed(entries: list[PanellistEntry]) -> discord.Embed:
    """Return a list of nominations, newest first."""
    embed = discord.Embed(title="Nominations", colour=INFO)
    if not entries:
        embed.description = "No nomination matches."
        return embed
    lines = [
        f"`{e.label}` {person_line(e.participation, e.person, private=e.private)}" for e in entries
    ]
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(text=f"{len(entries)} shown, newest first · /panellist view id")
    return embed


def invitation_embed(entry: PanellistEntry, guild_name: str) -> discord.Embed:
    """Return the direct message asking a nominee to confirm."""
    pa = entry.participation
    embed = discord.Embed(
        title=clip(f"You are invited to {heading(entry.proposal, 200)}", 256),
        description=(
            f"In **{one_line(guild_name)}**, you were nominated as "
            f"**{ROLES.get(pa.role, pa.role).lower()}** "
            f"({ATTENDANCE.get(pa.attendance, pa.attendance).lower()}). "
            "Do you agree to take part? Confirming also agrees that the organisers keep "
            "your name, affiliation and the details given for this session."
        ),
        colour=INFO,
    )
    if pa.rationale:
        embed.add_field(name="Why you", value=safe(pa.rationale, 1000), inline=False)
    embed.set_footer(text=f"Nomination #{pa.id}")
    return embed


def answered_embed(change: ParticipationChange) -> discord.Embed:
    """Return the invitation after the nominee answered."""
    confirmed = change.after == "confirmed"
    embed = discord.Embed(
        title=heading(change.entry.proposal),
        description="✅ You confirmed. Thank you!"
        if confirmed
        else "You declined. Thank you for letting the organisers know.",
        colour=OK if confirmed else WARN,
    )
    embed.set_footer(text=f"Nomination #{change.entry.participation.id}")
    return embed


def change_text(change: ParticipationChange) -> str:
    """Return one line about a nomination's new status."""
    name = one_line(change.entry.person.name)
    return (
        f"Nomination #{change.entry.participation.id} ({name} on {change.entry.label}) "
        f"is now **{change.after}** (was {change.before})."
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
    m = view.member
    embed = discord.Embed(
        title=f"MAG profile: {one_line(m.display_name or m.user_id)}", colour=INFO
    )
    embed.add_field(name="Member", value=f"<@{m.user_id}>", inline=True)
    embed.add_field(name="Stakeholder group", value=m.stakeholder_group, inline=True)
    embed.add_field(name="Region", value=m.region, inline=True)
    embed.add_field(name="Affiliation", value=one_line(m.affiliation or "—"), inline=True)
    if view.private:
        embed.add_field(name="Gender", value=m.gender, inline=True)
    embed.set_footer(
        text="The affiliation finds conflicts of interest: proposals by the same organisation."
    )
    return embed
