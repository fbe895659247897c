"""What the proposal, panellist and review cogs share: autocomplete, DMs, a persistent pager."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands

from bot.errors import PermissionDenied
from bot.i18n import LANGUAGES, _, current, pgettext
from bot.render.balance import CHART_FILE, chart_alt_text
from bot.render.charts import render_chart
from bot.render.embeds import fit_embed
from bot.render.text import plain
from bot.services.auth import Actor
from bot.services.balance import BalanceReport, FunnelReport
from bot.services.imports import IMPORTED_PROPOSER
from bot.services.taxonomy import GENDERS, REGIONS, fold, stakeholder_groups
from bot.ui import Answering, view_of
from cogs._common import actor_of, bot_of

log = logging.getLogger(__name__)

REGION_CHOICES = [app_commands.Choice(name=r, value=r) for r in REGIONS]
GENDER_CHOICES = [app_commands.Choice(name=g, value=g) for g in GENDERS]
# Languages by their own names; "auto": a person's Discord app, a server's own locale.
AUTOMATIC = "auto"
LANGUAGE_CHOICES = [
    app_commands.Choice(name="Automatic", value=AUTOMATIC),
    *(app_commands.Choice(name=language.name, value=code) for code, language in LANGUAGES.items()),
]


async def proposal_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """Suggest proposals by number or title (autocomplete for every ``proposal`` option)."""
    if interaction.guild_id is None:
        return []
    found = await bot_of(interaction).services.proposals.suggest(interaction.guild_id, current)
    return [
        app_commands.Choice(name=plain(f"{p.label} · {p.title}", 100), value=p.number)
        for p in found
    ]


async def subtheme_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest the guild's subthemes."""
    if interaction.guild_id is None:
        return []
    settings = await bot_of(interaction).services.config.get(interaction.guild_id)
    needle = current.casefold()
    return [
        app_commands.Choice(name=plain(name, 100), value=name[:100])
        for name in settings.subthemes
        if needle in name.casefold()
    ][:25]


async def stakeholder_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest the guild's stakeholder groups (the five of the IGF and any it added).

    Each is shown in the reader's language (found by either name) and chosen as stored.
    """
    if interaction.guild_id is None:
        return []
    settings = await bot_of(interaction).services.config.get(interaction.guild_id)
    needle = current.casefold()
    return [
        app_commands.Choice(name=plain(_(group), 100), value=group[:100])
        for group in stakeholder_groups(settings.rules)
        if needle in group.casefold() or needle in _(group).casefold()
    ][:25]


async def recipient_language(client: discord.Client, user_id: int, guild_id: int | None) -> str:
    """Return the language a DM to ``user_id`` is written in (theirs, else the server's)."""
    services = getattr(client, "services", None)
    if services is None:
        return current()
    guild = client.get_guild(guild_id) if guild_id is not None else None
    locale = guild.preferred_locale.value if guild is not None else None
    try:
        code: str = await services.languages.person(user_id, guild_id=guild_id, guild_locale=locale)
    except Exception:  # the DM matters more than its language
        log.warning("could not tell the language of user %s", user_id, exc_info=True)
        return current()
    return code


async def direct_message(
    client: discord.Client,
    user_id: int,
    *,
    embed: discord.Embed,
    view: discord.ui.View | None = None,
) -> bool:
    """Send a DM; return False (and log) when Discord refuses (DMs closed, unknown user).

    User 0 is nobody: an imported proposal's proposer (``IMPORTED_PROPOSER``).
    """
    if user_id == IMPORTED_PROPOSER:
        return False
    try:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        kwargs: dict[str, Any] = {"embed": fit_embed(embed)}
        if view is not None:
            kwargs["view"] = view
        await user.send(**kwargs)
    except discord.HTTPException as error:
        log.info("could not send a direct message to %s: %s", user_id, error.status)
        return False
    return True


def short_hash(text: str) -> str:
    """Return 8 hex characters naming ``text`` (a subtheme) in a custom_id."""
    return hashlib.sha256(fold(text).encode()).hexdigest()[:8]


def find_by_hash(names: Sequence[str], code: str) -> str | None:
    """Return the name whose ``short_hash`` is ``code`` (None: no longer there)."""
    return next((name for name in names if short_hash(name) == code), None)


# A list's pages: (interaction, actor, page, args) -> (embed, pages). Each list
# registers under a short name; the page buttons carry the name and the args.
PageFetcher = Callable[[discord.Interaction, Actor, int, str], Awaitable[tuple[discord.Embed, int]]]
PAGERS: dict[str, PageFetcher] = {}
PREVIOUS, NEXT = "◀️", "▶️"
PAGE = r"mag:page:(?P<what>[a-z]+):(?P<owner>[0-9]+):(?P<page>[0-9]+):(?P<args>[A-Za-z0-9._-]*)"


def pager(what: str) -> Callable[[PageFetcher], PageFetcher]:
    """Register the function that renders the pages of list ``what``."""

    def register(fetch: PageFetcher) -> PageFetcher:
        PAGERS[what] = fetch
        return fetch

    return register


class PageButton(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=PAGE):
    """Previous or Next under a list: it carries the list, its filters and the page it opens."""

    def __init__(
        self,
        what: str,
        owner: int,
        page: int,
        args: str,
        *,
        label: str,
        emoji: str | discord.PartialEmoji | None = None,
        disabled: bool = False,
    ) -> None:
        self.what, self.owner, self.page, self.args = what, owner, page, args
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"mag:page:{what}:{owner}:{page}:{args}",
                disabled=disabled,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        label = getattr(item, "label", None) or pgettext("button", "Page")
        return cls(
            match["what"],
            int(match["owner"]),
            int(match["page"]),
            match["args"],
            label=label,
            emoji=getattr(item, "emoji", None),
        )

    async def run(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.owner:
            raise PermissionDenied(_("These buttons page through someone else's list."))
        fetch = PAGERS.get(self.what)
        if fetch is None:
            raise PermissionDenied(_("This list can no longer be paged. Run the command again."))
        actor = await actor_of(interaction)  # permissions as they are now
        embed, pages = await fetch(interaction, actor, self.page, self.args)
        page = min(self.page, max(0, pages - 1))
        await interaction.response.edit_message(
            embed=fit_embed(embed), view=page_view(self.what, self.owner, page, pages, self.args)
        )


def page_view(what: str, owner: int, page: int, pages: int, args: str) -> discord.ui.View | None:
    """Return Previous and Next for page ``page`` of ``pages`` (None: one page only)."""
    if pages <= 1:
        return None
    return view_of(
        PageButton(
            what,
            owner,
            max(0, page - 1),
            args,
            label=pgettext("button", "Previous"),
            emoji=PREVIOUS,
            disabled=page <= 0,
        ),
        PageButton(
            what,
            owner,
            min(pages - 1, page + 1),
            args,
            label=pgettext("button", "Next"),
            emoji=NEXT,
            disabled=page >= pages - 1,
        ),
    )


async def chart_file(report: BalanceReport | FunnelReport) -> discord.File:
    """Return the report's chart as an attachment (drawn off the loop, with its alt text)."""
    png = await render_chart(report)
    return discord.File(io.BytesIO(png), CHART_FILE, description=chart_alt_text(report))
