"""`/proposal`: submit, view, list, edit, withdraw; status, screening, export (secretariat).

The submission and edit forms are answered by the form router (``cogs/forms.py``)
from what they carry, so a form left open for an hour, or across a restart,
is still taken; the rules and the submitter's roles are checked again when it
is sent. Withdrawing an accepted proposal, rejecting, and applying screening
ask for confirmation first (``cogs/_actions.py``).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInput
from bot.i18n import N_, _, ngettext, speaking
from bot.render.balance import effect_embed_of
from bot.render.decisions import slot_text
from bot.render.imports import import_embed
from bot.render.proposals import (
    proposal_embed,
    proposal_list_embed,
    screened_embed,
    screening_embed,
    screening_text,
    status_change_embed,
    submitted_embed,
)
from bot.services.auth import Actor
from bot.services.import_formats import MAX_BYTES
from bot.services.imports import IMPORTED_PROPOSER
from bot.services.proposals import (
    FORM_FIELDS,
    STATUS_LABELS,
    FormLimits,
    ProposalForm,
    StatusChange,
)
from bot.services.taxonomy import FORMATS, KINDS, PROPOSAL_STATUSES
from bot.services.text import quoted
from bot.ui import Form
from cogs._actions import action, perform
from cogs._common import Number, actor_of, bot_of, defer, respond, send
from cogs._forms import FormHandler, form
from cogs._programme import (
    direct_message,
    find_by_hash,
    page_view,
    pager,
    proposal_choices,
    recipient_language,
    short_hash,
    subtheme_choices,
)

# discord.py's attachment limit when the guild is unknown (Discord's default).
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024

FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in FORMATS]
KIND_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in KINDS.items()]
DURATION_CHOICES = [app_commands.Choice(name=f"{d} minutes", value=d) for d in (30, 60, 90)]
Status = Literal[
    "submitted",
    "screened_out",
    "under_review",
    "accepted",
    "conditional",
    "waitlisted",
    "rejected",
    "merged",
    "withdrawn",
]
PLACEHOLDERS = {
    "title": N_("A short, specific title"),
    "description": N_("What the session is about and why now"),
    "policy_questions": N_("The questions it will address"),
    "expected_outcomes": N_("What participants gain"),
    "hybrid_plan": N_("How onsite and online people take part"),
}
FIELD_LABELS = {name: label for name, label, _rule in FORM_FIELDS}
KIND_KEYS = list(KINDS)
NONE = "-"


def proposal_form(
    custom_id: str, title: str, limits: FormLimits, current: ProposalForm | None = None
) -> Form:
    """Return the proposal form: five text fields, limited to the guild's lengths as you type."""
    modal = Form(title=title, custom_id=custom_id)
    for name, label, _rule in FORM_FIELDS:
        modal.text(
            name,
            _(label),
            long=name != "title",
            placeholder=_(PLACEHOLDERS[name]),
            default=getattr(current, name) if current else None,
            max_length=limits[name],
        )
    return modal


def typed_form(values: Mapping[str, str]) -> ProposalForm:
    """Return the proposal form from a submit's values (missing fields: empty)."""
    return ProposalForm(**{name: values.get(name, "") for name, _label, _rule in FORM_FIELDS})


async def tell_proposer(
    client: discord.Client, guild: discord.Guild | None, change: StatusChange
) -> str:
    """DM the proposer about a status change; return a sentence for the person who made it."""
    if change.notify_user_id is None:
        return ""
    if change.notify_user_id == IMPORTED_PROPOSER:
        return _("The proposal was imported: tell its proposer outside Discord.")
    language = await recipient_language(client, change.notify_user_id, guild.id if guild else None)
    with speaking(language):
        sent = await direct_message(
            client,
            change.notify_user_id,
            embed=status_change_embed(change, guild.name if guild else _("the server")),
        )
    if sent:
        return _("The proposer was told.")
    return _("The proposer could not be told (DMs closed).")


def with_note(text: str, note: str) -> str:
    """Return the sentence ``text`` followed by the sentence ``note`` (if any)."""
    return f"{text} {note}" if note else text


# -- forms ---------------------------------------------------------------------------


@form("submit", labels=FIELD_LABELS)
async def submit_form(
    interaction: discord.Interaction, args: list[str], values: Mapping[str, str]
) -> None:
    """A submission form: ``<kind>:<format>:<duration>:<subtheme hash>:<key>``."""
    kind_index, fmt_index, duration, subtheme_code, key = args
    services = bot_of(interaction).services
    actor = await actor_of(interaction)  # roles as they are now, not when the form opened
    settings = await services.config.get(actor.guild_id)
    subtheme = find_by_hash(settings.subthemes, subtheme_code)
    if subtheme is None:
        raise InvalidInput(
            _(
                "The subtheme you chose was removed from this server while the form was open. "
                "Run `/proposal submit` again with another one."
            )
        )
    await defer(interaction)
    submitted = await services.proposals.submit(
        actor,
        kind=KIND_KEYS[int(kind_index)],
        fmt=FORMATS[int(fmt_index)],
        duration=int(duration),
        subtheme=subtheme,
        form=typed_form(values),
        submission_key=key,
    )
    await send(interaction, embed=submitted_embed(submitted))


@form("edit", labels=FIELD_LABELS)
async def edit_form(
    interaction: discord.Interaction, args: list[str], values: Mapping[str, str]
) -> None:
    """An edit form: ``<number>:<format|->:<duration|->:<subtheme hash|->``."""
    number, fmt_index, duration, subtheme_code = args
    services = bot_of(interaction).services
    actor = await actor_of(interaction)
    subtheme = None
    if subtheme_code != NONE:
        settings = await services.config.get(actor.guild_id)
        subtheme = find_by_hash(settings.subthemes, subtheme_code)
        if subtheme is None:
            raise InvalidInput(_("The subtheme you chose was removed while the form was open."))
    await defer(interaction)
    edited = await services.proposals.edit(
        actor,
        int(number),
        typed_form(values),
        fmt=None if fmt_index == NONE else FORMATS[int(fmt_index)],
        duration=None if duration == NONE else int(duration),
        subtheme=subtheme,
    )
    detail = await services.proposals.view(actor, edited.ref.number)
    await send(interaction, _("Saved."), embed=proposal_embed(detail))


async def reopen(
    interaction: discord.Interaction, kind: str, args: list[str], values: Mapping[str, str]
) -> Form:
    """Return the form of ``kind`` again, filled in with what was typed (a saved draft)."""
    limits = await bot_of(interaction).services.proposals.form_limits(interaction.guild_id or 0)
    if kind == "submit":
        args = [*args[:4], secrets.token_urlsafe(9)]  # a new form: a new key
        return proposal_form(
            f"mag:form:submit:{':'.join(args)}", _("Propose a session"), limits, typed_form(values)
        )
    return proposal_form(
        f"mag:form:edit:{':'.join(args)}",
        _("Edit #{number}", number=args[0]),
        limits,
        typed_form(values),
    )


FormHandler.reopeners["submit"] = reopen
FormHandler.reopeners["edit"] = reopen


# -- lists -------------------------------------------------------------------------


def list_args(status: str | None, subtheme: str | None, mine: bool) -> str:
    """Return a list's filters in a custom_id: ``<status>.<subtheme hash>.<mine>``."""
    s = str(PROPOSAL_STATUSES.index(status)) if status else NONE
    return f"{s}.{short_hash(subtheme) if subtheme else NONE}.{int(mine)}"


@pager("proposals")
async def proposals_page(
    interaction: discord.Interaction, actor: Actor, page: int, args: str
) -> tuple[discord.Embed, int]:
    status_code, subtheme_code, mine = args.split(".")
    services = bot_of(interaction).services
    subtheme = None
    if subtheme_code != NONE:
        settings = await services.config.get(actor.guild_id)
        subtheme = find_by_hash(settings.subthemes, subtheme_code)
    found = await services.proposals.list_page(
        actor,
        status=None if status_code == NONE else PROPOSAL_STATUSES[int(status_code)],
        subtheme=subtheme,
        mine=mine == "1",
        page=page,
    )
    return proposal_list_embed(found), found.pages


# -- heavy changes: they may ask for confirmation ---------------------------------------


@action("proposal.withdraw")
async def do_withdraw(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    change = await bot_of(interaction).services.proposals.withdraw(
        actor, payload["number"], payload.get("reason"), confirmed=confirmed
    )
    note = await tell_proposer(interaction.client, interaction.guild, change)
    await respond(
        interaction, with_note(_("{proposal} is withdrawn.", proposal=change.label), note)
    )


@action("proposal.status")
async def do_status(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    change = await bot_of(interaction).services.proposals.set_status(
        actor,
        payload["number"],
        payload["status"],
        payload.get("reason"),
        merged_into=payload.get("merged_into"),
        confirmed=confirmed,
    )
    note = await tell_proposer(interaction.client, interaction.guild, change)
    after = _(STATUS_LABELS.get(change.after, change.after.replace("_", " ")))
    text = _("{proposal} is now {status}.", proposal=change.label, status=after)
    await respond(interaction, with_note(text, note), embed=effect_embed_of(change.effect))


@action("proposal.screen")
async def do_screen(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    report = await bot_of(interaction).services.screening.screen(
        actor, payload.get("number"), apply=bool(payload.get("apply")), confirmed=confirmed
    )
    files = None
    if len(report.results) > 20:
        data = screening_text(report).encode()
        files = [discord.File(io.BytesIO(data), filename="screening.txt")]
    await respond(interaction, embed=screening_embed(report), files=files)
    if report.applied:
        # After the answer: each proposer whose proposal moved hears of it.
        guild_name = interaction.guild.name if interaction.guild else _("the server")
        for result in report.results:
            if result.moved_to is not None and result.proposer_id is not None:
                user = result.proposer_id
                language = await recipient_language(interaction.client, user, interaction.guild_id)
                with speaking(language):
                    told = result.in_current_language()  # the reasons in their language
                    await direct_message(
                        interaction.client, user, embed=screened_embed(told, guild_name)
                    )


@action("proposal.import")
async def do_import(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    result = await bot_of(interaction).services.imports.run(actor, payload, confirmed=confirmed)
    await respond(interaction, embed=import_embed(result))


async def _attachment_bytes(attachment: discord.Attachment) -> tuple[str, bytes]:
    """Return an attached file's name and bytes, refusing one over the import's size limit."""
    if attachment.size > MAX_BYTES:
        raise InvalidInput(
            _(
                "{name} is larger than {limit} MB: split the export.",
                name=quoted(attachment.filename, 100),
                limit=MAX_BYTES // (1024 * 1024),
            )
        )
    return attachment.filename, await attachment.read()


class ProposalsCog(commands.Cog):
    """Workshop proposals."""

    proposal = app_commands.Group(
        name="proposal",
        description="Submit, view and follow session proposals",
        guild_only=True,
        extras={"audience": "everyone"},
    )

    @proposal.command(name="submit", description="Submit a session proposal (opens a form)")
    @app_commands.describe(
        format="The session format",
        duration="How long the session lasts",
        subtheme="The subtheme (thematic track) it belongs to",
        kind="The kind of session (default: workshop)",
    )
    @app_commands.choices(format=FORMAT_CHOICES, kind=KIND_CHOICES)
    @app_commands.choices(duration=DURATION_CHOICES)
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def submit(
        self,
        interaction: discord.Interaction,
        format: str,
        duration: int,
        subtheme: str,
        kind: str = "workshop",
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        # Refuse before the form, so that nobody types a proposal for nothing.
        kind, format, duration, subtheme = await services.proposals.check_can_submit(
            actor, kind=kind, fmt=format, duration=duration, subtheme=subtheme
        )
        limits = await services.proposals.form_limits(actor.guild_id)
        key = secrets.token_urlsafe(9)  # one form, one proposal, however often it is sent
        custom_id = (
            f"mag:form:submit:{KIND_KEYS.index(kind)}:{FORMATS.index(format)}:{duration}:"
            f"{short_hash(subtheme)}:{key}"
        )
        label = _(KINDS[kind]).lower() if kind in KINDS else _("session")
        # Translators: {kind} is the kind of session in lower case, e.g. "workshop".
        title = _("Propose a {kind}", kind=label)
        await interaction.response.send_modal(proposal_form(custom_id, title, limits))

    @proposal.command(name="view", description="Show a proposal with its people and reviews")
    @app_commands.describe(number="The proposal's number (WS #12: 12)")
    @app_commands.autocomplete(number=proposal_choices)
    async def view(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        detail = await bot_of(interaction).services.proposals.view(actor, number)
        await send(interaction, embed=proposal_embed(detail))

    @proposal.command(name="list", description="List proposals, ten to a page")
    @app_commands.describe(
        status="Only proposals with this status",
        subtheme="Only proposals in this subtheme",
        mine="Only the proposals you submitted",
    )
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def list_(
        self,
        interaction: discord.Interaction,
        status: Status | None = None,
        subtheme: str | None = None,
        mine: bool = False,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        found = await bot_of(interaction).services.proposals.list_page(
            actor, status=status, subtheme=subtheme, mine=mine
        )
        args = list_args(found.filters.get("status"), found.filters.get("subtheme"), mine)
        view = page_view("proposals", actor.user_id, found.page, found.pages, args)
        await send(interaction, embed=proposal_list_embed(found), view=view)

    @proposal.command(name="edit", description="Edit a proposal's text (opens the form, filled in)")
    @app_commands.describe(
        number="The proposal's number",
        format="A new format (optional)",
        duration="A new duration (optional)",
        subtheme="A new subtheme (optional)",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.choices(duration=DURATION_CHOICES)
    @app_commands.autocomplete(number=proposal_choices)
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def edit(
        self,
        interaction: discord.Interaction,
        number: Number,
        format: str | None = None,
        duration: int | None = None,
        subtheme: str | None = None,
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        current = (await services.proposals.editable(actor, number))[1]
        limits = await services.proposals.form_limits(actor.guild_id)
        format, duration, subtheme = await services.proposals.edit_choices(
            actor.guild_id, fmt=format, duration=duration, subtheme=subtheme
        )
        custom_id = (
            f"mag:form:edit:{number}:{FORMATS.index(format) if format else NONE}:"
            f"{duration or NONE}:{short_hash(subtheme) if subtheme else NONE}"
        )
        await interaction.response.send_modal(
            proposal_form(custom_id, _("Edit #{number}", number=number), limits, current)
        )

    @proposal.command(name="withdraw", description="Withdraw a proposal (proposer or secretariat)")
    @app_commands.describe(number="The proposal's number", reason="Why (the proposer is told)")
    @app_commands.autocomplete(number=proposal_choices)
    async def withdraw(
        self,
        interaction: discord.Interaction,
        number: Number,
        reason: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(interaction, actor, "proposal.withdraw", {"number": number, "reason": reason})

    @proposal.command(
        name="confirm", description="Confirm the slot of your accepted proposal (proposer)"
    )
    @app_commands.describe(number="The proposal's number")
    @app_commands.autocomplete(number=proposal_choices)
    async def confirm(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        answer = await bot_of(interaction).services.decisions.confirm_mine(actor, number)
        await send(interaction, slot_text(answer))

    @proposal.command(
        name="status",
        description="Move a proposal to another status (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        number="The proposal's number",
        status="The new status",
        reason="Why (the proposer is told)",
        merged_into="With status merged: the proposal it was merged into",
    )
    @app_commands.autocomplete(number=proposal_choices, merged_into=proposal_choices)
    async def status(
        self,
        interaction: discord.Interaction,
        number: Number,
        status: Status,
        reason: app_commands.Range[str, 1, 1000] | None = None,
        merged_into: Number | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        payload = {"number": number, "status": status, "reason": reason, "merged_into": merged_into}
        await perform(interaction, actor, "proposal.status", payload)

    @proposal.command(
        name="screen",
        description="Check proposals against the screening rules (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        number="One proposal (default: every submitted or screened-out one)",
        apply="Also move them: failing -> screened out, passing -> under review",
    )
    @app_commands.autocomplete(number=proposal_choices)
    async def screen(
        self, interaction: discord.Interaction, number: Number | None = None, apply: bool = False
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(interaction, actor, "proposal.screen", {"number": number, "apply": apply})

    @proposal.command(
        name="import",
        description="Import a call run on pretalx, Sessionize or our CSV template (asks first)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        file="The export: pretalx sessions (JSON or CSV), Sessionize JSON, or our CSV template",
        speakers="pretalx only: its speakers export, for emails and details",
    )
    async def import_(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        speakers: discord.Attachment | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        files = [await _attachment_bytes(file)]
        if speakers is not None:
            files.append(await _attachment_bytes(speakers))
        parsed = await bot_of(interaction).services.imports.read(actor, files)
        await perform(interaction, actor, "proposal.import", parsed)

    @proposal.command(
        name="export",
        description="Download every proposal with its people and scores",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(format="csv for spreadsheets, json for everything")
    async def export(
        self, interaction: discord.Interaction, format: Literal["csv", "json"]
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        export = await bot_of(interaction).services.export.export(actor, format)
        limit = interaction.guild.filesize_limit if interaction.guild else DEFAULT_FILE_LIMIT
        if len(export.content) > limit:
            await send(
                interaction,
                _(
                    "The export is {size} KB, more than this server accepts as an attachment. "
                    "Try the csv format, which leaves out the long texts.",
                    size=len(export.content) // 1024,
                ),
            )
            return
        if export.private:
            text = ngettext(
                "{n} proposals, with contact details and scores.",
                "{n} proposals, with contact details and scores.",
                export.proposals,
            )
        else:
            text = ngettext(
                "{n} proposals, without contact details and scores.",
                "{n} proposals, without contact details and scores.",
                export.proposals,
            )
        await send(
            interaction,
            text,
            files=[discord.File(io.BytesIO(export.content), filename=export.filename)],
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ProposalsCog())
