"""Embeds for nominations, the nominee's invitation, and MAG profiles."""

from __future__ import annotations

import discord

from bot.i18n import _, ngettext
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
from bot.services.taxonomy import ROLES, participation_label


def nomination_embed(nomination: Nomination) -> discord.Embed:
    """Return the answer to a nomination."""
    entry = nomination.entry
    n = entry.nominee
    embed = discord.Embed(
        title=_("Nominated #{id} on {proposal}", id=n.participation_id, proposal=entry.label),
        description=person_line(n),
        colour=OK,
    )
    if nomination.reused:
        embed.add_field(
            name=_("Already known"),
            value=" ".join(
                (
                    _(
                        "{name} is already known here (person #{id}, same name "
                        "and affiliation): the stored details were kept.",
                        name=one_line(n.name),
                        id=n.person_id,
                    ),
                    *(
                        (_("What you stated differently was sent to the secretariat to check."),)
                        if nomination.flagged
                        else ()
                    ),
                )
            ),
            inline=False,
        )
    embed.set_footer(
        text=_(
            "Only the nominee answers for themselves. The proposer or the secretariat can "
            "send the invitation again or withdraw it with /panellist status."
        )
    )
    return embed


def entry_embed(entry: PanellistEntry) -> discord.Embed:
    """Return one nomination in full, as the reader may see it."""
    n = entry.nominee
    embed = discord.Embed(
        title=clip(
            _("Nomination #{id}: {name}", id=n.participation_id, name=one_line(n.name, 100)), 256
        ),
        colour=INFO,
    )
    embed.add_field(name=_("Proposal"), value=heading(entry.proposal, 200), inline=False)
    embed.add_field(name=_("Role"), value=_(ROLES.get(n.role, n.role)), inline=True)
    embed.add_field(name=_("Attendance"), value=attendance_text(n.attendance))
    embed.add_field(name=_("Status"), value=participation_label(n.status))
    embed.add_field(
        name=_("Stakeholder group"), value=one_line(_(n.stakeholder_group)), inline=True
    )
    embed.add_field(name=_("Region"), value=one_line(_(n.region)), inline=True)
    embed.add_field(name=_("Affiliation"), value=one_line(n.affiliation or "—"), inline=True)
    if n.country:
        embed.add_field(name=_("Country"), value=one_line(n.country), inline=True)
    if n.invitee_id:
        embed.add_field(name=_("Invitation to"), value=f"<@{n.invitee_id}>", inline=True)
    if n.linked_user_id:
        embed.add_field(name=_("Confirmed account"), value=f"<@{n.linked_user_id}>", inline=True)
    if n.nominated_by:
        embed.add_field(name=_("Nominated by"), value=f"<@{n.nominated_by}>", inline=True)
    if n.rationale:
        embed.add_field(name=_("Rationale"), value=safe(n.rationale, 1000), inline=False)
    answer = answer_text(n)
    embed.add_field(name=_("Their answer"), value=answer or _("not yet"), inline=True)
    if n.gender is not None:
        embed.add_field(name=_("Gender"), value=_(n.gender), inline=True)
        # The whole text is made safe, the claim in it included.
        contact = n.contact or (
            _("{contact} (given by the nominator)", contact=n.contact_claim)
            if n.contact_claim
            else "—"
        )
        embed.add_field(name=_("Contact"), value=safe(contact, 250), inline=True)
        if n.open_flags:
            embed.add_field(
                name=_("Identity flags"),
                value=ngettext(
                    "{n} to check: `/person view person:{person}`",
                    "{n} to check: `/person view person:{person}`",
                    n.open_flags,
                    person=n.person_id,
                ),
                inline=True,
            )
        embed.set_footer(text=_("Person #{id} · personal data: secretariat only", id=n.person_id))
    return embed


def entries_embed(entries: list[PanellistEntry]) -> discord.Embed:
    """Return a list of nominations, newest first."""
    embed = discord.Embed(title=_("Nominations"), colour=INFO)
    if not entries:
        embed.description = _("No nomination matches.")
        return embed
    lines = [f"`{e.label}` {person_line(e.nominee)}" for e in entries]
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(
        text=ngettext(
            "{n} shown, newest first · /panellist view id",
            "{n} shown, newest first · /panellist view id",
            len(entries),
        )
    )
    return embed


def invitation_embed(
    entry: PanellistEntry, guild_name: str, *, mag_member: bool = False
) -> discord.Embed:
    """Return the direct message asking a nominee to confirm, with what was said about them."""
    n = entry.nominee
    embed = discord.Embed(
        title=clip(_("You are invited to {proposal}", proposal=heading(entry.proposal, 200)), 256),
        description=_(
            "In **{server}**, you were nominated as **{role}** ({attendance}). "
            "Do you agree to take part? Confirming also agrees that the organisers keep "
            "your name, affiliation and the details below for this session. If something "
            "below is wrong, press *Details are wrong* and the secretariat will correct it.",
            server=one_line(guild_name),
            role=_(ROLES.get(n.role, n.role)).lower(),
            attendance=attendance_text(n.attendance),
        ),
        colour=INFO,
    )
    embed.add_field(
        name=_("As stated by the nominator"),
        value=f"{one_line(n.name, 100)}"
        + (f", {one_line(n.affiliation, 100)}" if n.affiliation else "")
        + f"\n{one_line(_(n.stakeholder_group), 60)} · {one_line(_(n.region), 60)}",
        inline=False,
    )
    if n.rationale:
        embed.add_field(name=_("Why you"), value=safe(n.rationale, 1000), inline=False)
    if mag_member:
        embed.add_field(
            name=_("⚠️ You are a MAG member"),
            value=_(
                "Confirming gives you a conflict of interest on this proposal: it leaves "
                "your review queue and a score of yours on it stops counting."
            ),
            inline=False,
        )
    embed.set_footer(
        text=_(
            "Nomination #{id} · Stop invitations: no more invitations from this server.",
            id=n.participation_id,
        )
    )
    return embed


def answered_embed(change: ParticipationChange) -> discord.Embed:
    """Return the invitation after the nominee answered."""
    confirmed = change.after == "confirmed"
    text = (
        _("✅ You confirmed. Thank you!")
        if confirmed
        else _("You declined. Thank you for letting the organisers know.")
    )
    if confirmed and change.conflict_note:
        text += "\n" + _(
            "As a MAG member you now have a conflict of interest on this proposal: "
            "it leaves your review queue and a score of yours does not count."
        )
    embed = discord.Embed(
        title=heading(change.entry.proposal), description=text, colour=OK if confirmed else WARN
    )
    embed.set_footer(text=_("Nomination #{id}", id=change.entry.nominee.participation_id))
    return embed


def change_text(change: ParticipationChange) -> str:
    """Return one line about a nomination's new status, naming nobody (DMs reach others)."""
    return _(
        "Nomination #{id} on {proposal} is now **{status}** (was {before}).",
        id=change.entry.nominee.participation_id,
        proposal=change.entry.label,
        status=participation_label(change.after),
        before=participation_label(change.before),
    )


def invitation_note(invitation: Invitation, sent: bool | None, participation_id: int) -> str:
    """Return what happened to an invitation, for the person who nominated or re-invited."""
    if invitation.emailed:
        return _("They will get an email with a link to confirm or decline.")
    if not invitation.sent:
        return _("No invitation was sent: {reason}.", reason=invitation.reason)
    if sent:
        return _("They got a direct message to confirm or decline.")
    return _(
        "Their direct messages are closed: ask them to answer with `/panellist status id:{id}`.",
        id=participation_id,
    )


def forgotten_text(forgotten: Forgotten) -> str:
    """Return what ``/panellist forget`` erased."""
    if forgotten.proposals:
        return ngettext(
            "Person #{id} forgotten: personal data and {n} participation(s) from {proposals} "
            "erased. The audit keeps only that this happened.",
            "Person #{id} forgotten: personal data and {n} participation(s) from {proposals} "
            "erased. The audit keeps only that this happened.",
            forgotten.participations,
            id=forgotten.person_id,
            proposals=", ".join(forgotten.proposals),
        )
    return ngettext(
        "Person #{id} forgotten: personal data and {n} participation(s) erased. "
        "The audit keeps only that this happened.",
        "Person #{id} forgotten: personal data and {n} participation(s) erased. "
        "The audit keeps only that this happened.",
        forgotten.participations,
        id=forgotten.person_id,
    )


def profile_embed(view: ProfileView) -> discord.Embed:
    """Return a MAG member's profile (gender only for them and the secretariat)."""
    embed = discord.Embed(
        title=_("MAG profile: {name}", name=one_line(view.display_name or view.user_id)),
        colour=INFO,
    )
    embed.add_field(name=_("Member"), value=f"<@{view.user_id}>", inline=True)
    embed.add_field(
        name=_("Stakeholder group"), value=one_line(_(view.stakeholder_group)), inline=True
    )
    embed.add_field(name=_("Region"), value=one_line(_(view.region)), inline=True)
    embed.add_field(name=_("Affiliation"), value=one_line(view.affiliation or "—"), inline=True)
    if view.gender is not None:
        embed.add_field(name=_("Gender"), value=_(view.gender), inline=True)
    if view.timezone is not None:
        embed.add_field(name=_("Time zone"), value=safe(view.timezone, 64), inline=True)
    if not view.has_role:
        embed.add_field(
            name=_("MAG role"),
            value=_("No longer held: not assigned, counted or chased (the profile is kept)."),
            inline=False,
        )
    embed.set_footer(
        text=_(
            "The affiliation suggests conflicts of interest: proposals by the same organisation."
        )
    )
    return embed
