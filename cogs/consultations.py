"""`/consultation`: open consultations, inputs through a form, and who has been heard.

The input form's custom id carries the consultation, the stated group,
region and the other options, and a key of its own (``mag:form:cinput:…``):
the form router answers it the same way after a restart, and a form that
cannot be taken any more (the consultation closed while it was open) gives
back what was typed (``cogs.forms``).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInput
from bot.i18n import N_, _
from bot.render.balance import CHART_FILE
from bot.render.consultations import (
    consultation_embed,
    input_embed,
    list_embed,
    summary_embeds,
)
from bot.services.consultations import MAX_ANSWER, ConsultationView, InputView
from bot.services.pending import DRAFT_FOR
from bot.services.taxonomy import GENDERS, REGIONS, fold, stakeholder_groups
from bot.ui import Form
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._forms import FormHandler, form
from cogs._programme import GENDER_CHOICES, REGION_CHOICES, chart_file, stakeholder_choices

VISIBILITY_CHOICES = [
    app_commands.Choice(name="public: texts and who wrote them", value="public"),
    app_commands.Choice(name="anonymised: texts without names", value="anonymised"),
    app_commands.Choice(name="secretariat only: texts for the secretariat", value="secretariat"),
]
FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in ("csv", "json")]
NONE = "-"
SECRETARIAT = {"audience": "secretariat"}
# Form fields: one answer per question (a1…a3).
ANSWER_FIELDS = ("a1", "a2", "a3")
LABELS = {"a1": N_("Answer 1"), "a2": N_("Answer 2"), "a3": N_("Answer 3")}


def _roles(interaction: discord.Interaction) -> frozenset[int]:
    member = interaction.user
    if isinstance(member, discord.Member):
        return frozenset(role.id for role in member.roles)
    return frozenset()


def _flag(value: bool | None) -> str:
    return NONE if value is None else ("1" if value else "0")


def _unflag(text: str) -> bool | None:
    return None if text == NONE else text == "1"


def input_form(
    custom_id: str, view: ConsultationView, title: str, current: Mapping[str, str] | None = None
) -> Form:
    """Return the input form: one long field per question (the question as its label)."""
    modal = Form(title=title, custom_id=custom_id)
    for field, question in zip(ANSWER_FIELDS, view.questions, strict=False):
        label = question if len(question) <= 45 else _("Question {n}", n=field[1])
        modal.text(
            field,
            label,
            long=True,
            placeholder=question if len(question) > 45 else None,
            default=(current or {}).get(field) or None,
            max_length=MAX_ANSWER,
            required=False,
        )
    return modal


def _answers(values: Mapping[str, str]) -> list[str]:
    return [values.get(field, "") for field in ANSWER_FIELDS]


def _index(value: str | None, choices: tuple[str, ...]) -> str:
    if value is None:
        return NONE
    wanted = fold(value)
    for index, choice in enumerate(choices):
        if fold(choice) == wanted:
            return str(index)
    return NONE


# -- forms ---------------------------------------------------------------------------


@form("cinput", labels=LABELS)
async def input_submitted(
    interaction: discord.Interaction, args: list[str], values: Mapping[str, str]
) -> None:
    """``<number>:<group idx>:<region idx>:<gender idx|->:<developing>:<youth>:<pending|->:<key>``.

    The organisation and, for an input entered on someone's behalf, their
    name are kept in a pending row (``pending``): a custom id is too short.
    """
    number, group, region, gender, developing, youth, pending_id, key = args
    services = bot_of(interaction).services
    actor = await actor_of(interaction)
    settings = await services.config.get(actor.guild_id)
    groups = stakeholder_groups(settings.rules)
    if not group.isdigit() or int(group) >= len(groups):
        raise InvalidInput(_("The stakeholder groups changed while the form was open. Try again."))
    extra: Mapping[str, object] = {}
    if pending_id != NONE:
        action_id, _dot, token = pending_id.partition(".")
        found = await services.pending.peek(
            user_id=actor.user_id, action_id=int(action_id), token=token
        )
        if found is None:
            raise InvalidInput(_("This form is too old. Run the command again."))
        extra = found.payload
    await defer(interaction)
    entry = await services.consultations.submit(
        actor,
        int(number),
        answers=_answers(values),
        stakeholder_group=groups[int(group)],
        region=REGIONS[int(region)],
        gender=None if gender == NONE else GENDERS[int(gender)],
        developing_country=_unflag(developing),
        youth=_unflag(youth),
        organisation=str(extra.get("organisation") or "") or None,
        on_behalf_of=str(extra["name"]) if extra.get("name") else None,
        roles=_roles(interaction),
        submission_key=key,
    )
    view = await services.consultations.get(actor, int(number))
    await send(interaction, embed=input_embed(view, entry, _("Thank you: your input is in.")))


@form("cedit", labels=LABELS)
async def edit_submitted(
    interaction: discord.Interaction, args: list[str], values: Mapping[str, str]
) -> None:
    """``<number>:<input>``."""
    number, input_number = args
    services = bot_of(interaction).services
    actor = await actor_of(interaction)
    await defer(interaction)
    entry = await services.consultations.edit(
        actor,
        int(number),
        answers=_answers(values),
        input_number=int(input_number),
        roles=_roles(interaction),
    )
    view = await services.consultations.get(actor, int(number))
    await send(interaction, embed=input_embed(view, entry, _("Your input is changed.")))


async def reopen(
    interaction: discord.Interaction, kind: str, args: list[str], values: Mapping[str, str]
) -> Form:
    """Return the form again, filled in with what was typed (a saved draft)."""
    services = bot_of(interaction).services
    actor = await actor_of(interaction)
    view = await services.consultations.get(actor, int(args[0]))
    if kind == "cinput":
        args = [*args[:-1], secrets.token_urlsafe(9)]
        return input_form(f"mag:form:cinput:{':'.join(args)}", view, _("Your input"), values)
    return input_form(f"mag:form:cedit:{':'.join(args)}", view, _("Your input"), values)


FormHandler.reopeners["cinput"] = reopen
FormHandler.reopeners["cedit"] = reopen


class ConsultationsCog(commands.Cog):
    """Open consultations: the secretariat asks, everyone answers, the balance shows who spoke."""

    consultation = app_commands.Group(
        name="consultation",
        description="Open consultations: give your input, see who has been heard",
        guild_only=True,
    )

    @consultation.command(
        name="open", description="Open a consultation with 1 to 3 questions", extras=SECRETARIAT
    )
    @app_commands.describe(
        title="What the consultation is about",
        question="The (first) question people answer",
        closes="When it closes, YYYY-MM-DD HH:MM in the server's time zone",
        question2="A second question",
        question3="A third question",
        opens="When it opens (default: now), YYYY-MM-DD HH:MM",
        timezone="The time zone of the times (default: the server's)",
        role="Only members with this role may answer (default: anyone on the server)",
        visibility="Who reads the inputs' texts (default: public)",
        several="Allow more than one input per person (default: no)",
        channel="Where its reminders and its close are posted (default: reminders)",
        offsets="When to remind before the close, such as 7d,1d (default: the server's)",
    )
    @app_commands.choices(visibility=VISIBILITY_CHOICES)
    async def open(
        self,
        interaction: discord.Interaction,
        title: str,
        question: str,
        closes: str,
        question2: str | None = None,
        question3: str | None = None,
        opens: str | None = None,
        timezone: str | None = None,
        role: discord.Role | None = None,
        visibility: str | None = None,
        several: bool = False,
        channel: discord.TextChannel | None = None,
        offsets: str | None = None,
    ) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view = await services.consultations.open(
            actor,
            title=title,
            questions=[question, question2, question3],
            closes=closes,
            opens=opens,
            timezone=timezone,
            audience_role_id=role.id if role else None,
            visibility=visibility,
            several=several,
            channel_id=channel.id if channel else None,
            offsets=offsets,
        )
        now = services.consultations.now()
        await send(
            interaction,
            _(
                "Consultation #{number} is open. People answer with "
                "`/consultation submit number:{number}`.",
                number=view.number,
            ),
            embed=consultation_embed(view, now_open=view.is_open(now)),
        )

    @consultation.command(name="list", description="List the server's consultations")
    async def list_(self, interaction: discord.Interaction) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        views = await services.consultations.listed(actor)
        now = services.consultations.now()
        await send(interaction, embed=list_embed(views, [v.is_open(now) for v in views]))

    @consultation.command(name="view", description="Show a consultation and its questions")
    @app_commands.describe(number="The consultation's number")
    async def view(self, interaction: discord.Interaction, number: Number) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view = await services.consultations.get(actor, number)
        now = services.consultations.now()
        await send(interaction, embed=consultation_embed(view, now_open=view.is_open(now)))

    async def _open_form(
        self,
        interaction: discord.Interaction,
        number: int,
        *,
        stakeholder: str,
        region: str,
        organisation: str | None,
        gender: str | None,
        developing_country: bool | None,
        youth: bool | None,
        name: str | None = None,
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view = await services.consultations.check_open(
            actor, number, _roles(interaction), on_behalf=name is not None
        )
        settings = await services.config.get(actor.guild_id)
        # Checked now, so that nobody types an answer for nothing.
        checked = services.consultations.check_attributes(
            settings, stakeholder_group=stakeholder, region=region, gender=gender,
            organisation=organisation,
        )  # fmt: skip
        pending = NONE
        if checked.organisation or name:
            payload = {"organisation": checked.organisation, "name": name}
            asked = await services.pending.ask(
                actor, "consultation input", payload, lasts=DRAFT_FOR
            )
            pending = f"{asked.id}.{asked.token}"
        groups = stakeholder_groups(settings.rules)
        args = [
            str(number),
            str(groups.index(checked.stakeholder_group)),
            str(REGIONS.index(checked.region)),
            _index(checked.gender, GENDERS),
            _flag(developing_country),
            _flag(youth),
            pending,
            secrets.token_urlsafe(9),
        ]
        title = _("Input to consultation #{number}", number=number)
        await interaction.response.send_modal(
            input_form(f"mag:form:cinput:{':'.join(args)}", view, title)
        )

    @consultation.command(name="submit", description="Give your input to a consultation")
    @app_commands.describe(
        number="The consultation's number",
        stakeholder="Your stakeholder group",
        region="Your region (UN regional group)",
        organisation="The organisation you speak for, if any",
        gender="Your gender (optional; counted, never shown to others)",
        developing_country="Are you from a developing country? (optional)",
        youth="Are you a young person? (optional)",
    )
    @app_commands.autocomplete(stakeholder=stakeholder_choices)
    @app_commands.choices(region=REGION_CHOICES, gender=GENDER_CHOICES)
    async def submit(
        self,
        interaction: discord.Interaction,
        number: Number,
        stakeholder: str,
        region: str,
        organisation: str | None = None,
        gender: str | None = None,
        developing_country: bool | None = None,
        youth: bool | None = None,
    ) -> None:
        await self._open_form(
            interaction,
            number,
            stakeholder=stakeholder,
            region=region,
            organisation=organisation,
            gender=gender,
            developing_country=developing_country,
            youth=youth,
        )

    @consultation.command(
        name="enter",
        description="Enter an input for someone outside Discord (secretariat)",
        extras=SECRETARIAT,
    )
    @app_commands.describe(
        number="The consultation's number",
        name="The name of the person or organisation the input is from",
        stakeholder="Their stakeholder group",
        region="Their region (UN regional group)",
        organisation="The organisation they speak for, if any",
        gender="Their gender, if they stated it",
        developing_country="From a developing country? (if stated)",
        youth="A young person? (if stated)",
    )
    @app_commands.autocomplete(stakeholder=stakeholder_choices)
    @app_commands.choices(region=REGION_CHOICES, gender=GENDER_CHOICES)
    async def enter(
        self,
        interaction: discord.Interaction,
        number: Number,
        name: str,
        stakeholder: str,
        region: str,
        organisation: str | None = None,
        gender: str | None = None,
        developing_country: bool | None = None,
        youth: bool | None = None,
    ) -> None:
        await self._open_form(
            interaction,
            number,
            stakeholder=stakeholder,
            region=region,
            organisation=organisation,
            gender=gender,
            developing_country=developing_country,
            youth=youth,
            name=name,
        )

    @consultation.command(name="edit", description="Change your input while it is open")
    @app_commands.describe(
        number="The consultation's number",
        input="Which of your inputs (only if you gave several)",
    )
    async def edit(
        self, interaction: discord.Interaction, number: Number, input: Number | None = None
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view, entry = await services.consultations.current(
            actor, number, input, roles=_roles(interaction)
        )
        values = dict(zip(ANSWER_FIELDS, entry.answers, strict=False))
        custom_id = f"mag:form:cedit:{number}:{entry.number}"
        title = _("Your input to consultation #{number}", number=number)
        await interaction.response.send_modal(input_form(custom_id, view, title, values))

    @consultation.command(name="withdraw", description="Withdraw your input while it is open")
    @app_commands.describe(
        number="The consultation's number",
        input="Which of your inputs (only if you gave several)",
    )
    async def withdraw(
        self, interaction: discord.Interaction, number: Number, input: Number | None = None
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        entry: InputView = await services.consultations.withdraw(actor, number, input)
        await send(
            interaction,
            _(
                "Your input {input} to consultation #{number} is withdrawn: it no longer counts.",
                input=entry.number,
                number=number,
            ),
        )

    @consultation.command(
        name="summary", description="Who has been heard: counts, shares, warnings and a chart"
    )
    @app_commands.describe(number="The consultation's number")
    async def summary(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        summary = await services.consultations.summary(actor, number)
        files = [await chart_file(summary.report)] if summary.report.seats else []
        chart = CHART_FILE if files else None
        await send(interaction, embeds=summary_embeds(summary, chart=chart), files=files)

    @consultation.command(
        name="export",
        description="Download every input as CSV or JSON (secretariat)",
        extras=SECRETARIAT,
    )
    @app_commands.describe(number="The consultation's number", format="csv or json")
    @app_commands.choices(format=FORMAT_CHOICES)
    async def export(
        self, interaction: discord.Interaction, number: Number, format: str = "csv"
    ) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        name, body = await services.consultations.export(actor, number, format)
        await send(
            interaction,
            _("Every input to consultation #{number}.", number=number),
            files=[discord.File(io.BytesIO(body), name)],
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ConsultationsCog())
