"""Per-guild configuration: defaults declared once, every change audited.

``GuildSettings`` is what the rest of the bot reads: the guild's choices laid
over ``DEFAULTS``. Reads go through a small cache that a write through this
service invalidates; other processes see a change within ``CACHE_TTL``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, available_timezones

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput, NotFound
from bot.i18n import LANGUAGES, SOURCE, _, formats, language_of_locale, ngettext, pgettext
from bot.services.auth import Actor, require_admin, resolve_actor
from bot.services.durations import format_offsets, parse_offsets
from bot.services.text import clean_line, quoted
from storage.audit import record_event
from storage.config import GuildConfig, get_guild_config, get_or_create_guild_config
from storage.database import Database
from storage.delivery import unblock_channel

ChannelPurpose = Literal["reminders", "digest", "log"]
RolePurpose = Literal["mag", "secretariat"]
DigestFrequency = Literal["daily", "weekly", "off"]

CHANNEL_PURPOSES: Final = ("reminders", "digest", "log")
ROLE_PURPOSES: Final = ("mag", "secretariat")
DIGEST_FREQUENCIES: Final = ("daily", "weekly", "off")
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

MAX_SUBTHEMES: Final = 25  # one autocomplete page
MAX_SUBTHEME_LENGTH: Final = 100
MAX_CYCLE_LENGTH: Final = 100
CACHE_TTL: Final = 30.0

# Called inside the transaction of every configuration change with the row,
# the names of the columns that changed and the time (issue 4: next digest).
ConfigChangeHook = Callable[[AsyncSession, GuildConfig, frozenset[str], datetime], Awaitable[None]]


@dataclass(frozen=True)
class Defaults:
    """Every setting's default, in one place."""

    # IGF deadlines are 23:59 UTC; a guild picks its own zone for display and digests.
    timezone: str = "UTC"
    cycle_name: str = ""
    digest_frequency: DigestFrequency = "weekly"
    digest_time: str = "09:00"
    digest_weekday: int = 0  # Monday
    reminder_offsets: tuple[int, ...] = (14 * 1440, 7 * 1440, 1440, 60)
    # The eight subthemes of IGF 2023; each guild sets its own.
    subthemes: tuple[str, ...] = (
        "AI & Emerging Technologies",
        "Avoiding Internet Fragmentation",
        "Cybersecurity, Cybercrime & Online Safety",
        "Data Governance & Trust",
        "Digital Divides & Inclusion",
        "Global Digital Governance & Cooperation",
        "Human Rights & Freedoms",
        "Sustainability & Environment",
    )
    # Named rules other features read (screening, balance targets...). A
    # feature adds its defaults here so that `/config show` lists them.
    rules: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType(
            {
                # Proposals (issue 3): form limits (2015 template: title at most 60).
                "limits.title_max": 60,
                "limits.description_max": 2000,
                "limits.policy_questions_max": 1000,
                "limits.expected_outcomes_max": 1000,
                "limits.hybrid_plan_max": 1000,
                "proposals.max_per_proposer": 3,
                "proposals.mag_may_submit": False,
                # Screening (2023 rules); 0 or False turns a rule off.
                "screening.complete_fields": True,
                "screening.min_speakers_agreed": 3,
                "screening.gender_diversity": True,
                "screening.min_onsite_moderators": 1,
                "screening.min_onsite_speakers": 2,
                "screening.proposer_not_mag": True,
                "screening.max_proposals_per_proposer": 3,
                "screening.max_sessions_per_speaker": 3,
                "screening.min_stakeholder_groups": 0,
                "screening.min_regions": 0,
                # Panellist invitations (issue 9): per account per day; a
                # nomination's own invitation at most this often.
                "invitations.per_day": 3,
                "invitations.resend_hours": 24,
                # Privacy: below this many people, gender and youth are shown
                # to the secretariat only (a count of one tells who).
                "privacy.min_count": 5,
                # MAG evaluation.
                "reviews.comment_required_max_score": 3,
                "reviews.min_stakeholder_groups": 3,
                # The secretariat reads who wrote each review (false: "Reviewer A", "B"…).
                "reviews.name_reviewers": True,
                # The borderline band: within this many tenths of a point of the cut.
                "reviews.borderline_tenths": 5,
                # Blind review: MAG members see no proposer, organisers' or speakers' names.
                "reviews.blind": False,
                # Decisions: accepted proposers confirm their slot within this many days.
                "decisions.confirm_days": 14,
                # Merge suggestions: pairs at least this many percent alike (50 to 100).
                "reviews.similar_threshold": 70,
                # Stakeholder groups a guild adds to the five of the IGF.
                "taxonomy.extra_stakeholder_groups": [],
                # Reminders (issue 4): ping the MAG role; chase reviewers by DM.
                "reminders.mention_mag": False,
                "reminders.dm_reviewers": False,
                # Balance targets (issue 5), shares in percent; 0 turns a floor or ceiling off.
                "balance.min_seats": 10,
                "balance.group_share_max": 40,
                "balance.group_share_min": 10,
                "balance.every_group": True,
                "balance.region_share_max": 40,
                "balance.every_region": True,
                "balance.gender_share_max": 60,
                "balance.developing_share_min": 0,
                "balance.first_time_share_min": 0,
                "balance.youth_share_min": 0,
                "balance.funnel_drop_points": 10,
                "balance.mag_government_max": 40,
                "balance.mag_tolerance_points": 5,
            }
        )
    )


DEFAULTS: Final = Defaults()


@dataclass(frozen=True)
class DigestSchedule:
    """When the secretariat's digest is posted, on the guild's wall clock."""

    frequency: DigestFrequency
    time: str  # HH:MM
    weekday: int  # 0 = Monday; used when weekly

    def describe(self) -> str:
        """Return the schedule in words: ``weekly on Monday at 09:00``."""
        if self.frequency == "off":
            return pgettext("digest", "off")
        if self.frequency == "daily":
            return _("daily at {time}", time=self.time)
        return _(
            "weekly on {weekday} at {time}", weekday=formats.weekday(self.weekday), time=self.time
        )


@dataclass(frozen=True)
class GuildSettings:
    """A guild's configuration with every default filled in."""

    guild_id: int
    timezone: str
    cycle_name: str
    channels: Mapping[str, int | None]
    roles: Mapping[str, int | None]
    digest: DigestSchedule
    reminder_offsets: tuple[int, ...]
    subthemes: tuple[str, ...]
    rules: Mapping[str, Any]
    customised: frozenset[str]  # names of the settings the guild changed
    # The language of public posts the admins chose (a bot.i18n code); None:
    # the server's own Discord locale, else English (``ConfigService.public_language``).
    language: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        """Return the guild's zone."""
        return ZoneInfo(self.timezone)

    @property
    def reminder_offsets_text(self) -> str:
        """Return the default reminder offsets as typed: ``14d, 7d, 1d, 1h``."""
        return format_offsets(self.reminder_offsets)

    def rule(self, name: str) -> Any:
        """Return the value of a named rule (the guild's, else the default)."""
        return self.rules[name]


def settings_from_row(guild_id: int, row: GuildConfig | None) -> GuildSettings:
    """Return the settings for ``row`` (None: a guild that changed nothing)."""
    d = DEFAULTS
    r = row or GuildConfig(guild_id=guild_id)
    customised = {
        name
        for name in (
            "timezone",
            "cycle_name",
            "digest_frequency",
            "digest_time",
            "digest_weekday",
            "reminder_offsets",
            "subthemes",
            "language",
        )
        if getattr(r, name) is not None
    }
    rules = {**d.rules, **(r.rules or {})}
    customised |= {f"rules.{name}" for name in (r.rules or {})}
    return GuildSettings(
        guild_id=guild_id,
        timezone=r.timezone or d.timezone,
        cycle_name=r.cycle_name if r.cycle_name is not None else d.cycle_name,
        channels=MappingProxyType(
            {
                "reminders": r.reminders_channel_id,
                "digest": r.digest_channel_id,
                "log": r.log_channel_id,
            }
        ),
        roles=MappingProxyType({"mag": r.mag_role_id, "secretariat": r.secretariat_role_id}),
        digest=DigestSchedule(
            frequency=r.digest_frequency or d.digest_frequency,  # type: ignore[arg-type]
            time=r.digest_time or d.digest_time,
            weekday=r.digest_weekday if r.digest_weekday is not None else d.digest_weekday,
        ),
        reminder_offsets=tuple(r.reminder_offsets or d.reminder_offsets),
        subthemes=tuple(r.subthemes if r.subthemes is not None else d.subthemes),
        rules=MappingProxyType(rules),
        customised=frozenset(customised),
        language=r.language if r.language in LANGUAGES else None,
    )


def check_language(code: str) -> str:
    """Return ``code`` if it names a language the bot speaks; refuse it clearly otherwise."""
    if code not in LANGUAGES:
        names = ", ".join(f"`{known}`" for known in LANGUAGES)
        raise InvalidInput(_("Unknown language. Choose one of {languages}.", languages=names))
    return code


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Return every IANA zone name, keyed by its lower-case form."""
    return {name.lower(): name for name in available_timezones()}


def check_timezone(name: str) -> str:
    """Return the canonical IANA name for ``name``, or raise ``InvalidInput``."""
    canonical = _zone_names().get(name.strip().lower())
    if canonical is None:
        if "geneva" in name.lower():
            raise InvalidInput(
                _(
                    "{name} is not a known time zone (Geneva is `Europe/Zurich`). Use an IANA "
                    "name such as `Europe/Zurich` or `America/New_York`; the command suggests "
                    "names as you type.",
                    name=quoted(name, 64),
                )
            )
        raise InvalidInput(
            _(
                "{name} is not a known time zone. Use an IANA name such as "
                "`Europe/Zurich` or `America/New_York`; the command suggests names as you type.",
                name=quoted(name, 64),
            )
        )
    return canonical


def suggest_timezones(text: str, limit: int = 25) -> list[str]:
    """Return up to ``limit`` zone names containing ``text``, prefix matches first."""
    needle = text.strip().lower().replace(" ", "_")
    names = sorted(_zone_names().items())
    if not needle:
        common = ["UTC", "Europe/Zurich", "America/New_York", "Africa/Nairobi", "Asia/Tokyo"]
        return common[:limit]
    prefix = [name for low, name in names if low.startswith(needle)]
    inside = [name for low, name in names if needle in low and not low.startswith(needle)]
    return (prefix + inside)[:limit]


_HHMM = re.compile(r"^\s*([01]?\d|2[0-3])[:h.]([0-5]\d)\s*$")


def parse_time_of_day(text: str) -> str:
    """Return ``text`` as ``HH:MM`` (24-hour clock), or raise ``InvalidInput``."""
    match = _HHMM.match(text)
    if match is None:
        raise InvalidInput(
            _(
                "{text} is not a time of day. Use HH:MM, for example `09:00`.",
                text=quoted(text, 10),
            )
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _split_subthemes(text: str) -> list[str]:
    names = [clean_line(part) for part in re.split(r"[;\n]", text)]
    return [name for name in names if name]


def _check_subtheme(name: str) -> str:
    name = clean_line(name)
    if not name:
        raise InvalidInput(_("A subtheme needs a name."))
    if len(name) > MAX_SUBTHEME_LENGTH:
        raise InvalidInput(
            ngettext(
                "Subtheme names can be at most {n} character (this one has {length}).",
                "Subtheme names can be at most {n} characters (this one has {length}).",
                MAX_SUBTHEME_LENGTH,
                length=len(name),
            )
        )
    return name


def _too_many_subthemes() -> str:
    return ngettext(
        "A server can have at most {n} subtheme.",
        "A server can have at most {n} subthemes.",
        MAX_SUBTHEMES,
    )


def _dedupe(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            unique.append(name)
    return unique


class ConfigService:
    """Read and change a guild's configuration."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._cache: dict[int, tuple[float, GuildSettings]] = {}
        self.change_hooks: list[ConfigChangeHook] = []
        # Each server's own Discord locale, as last seen (gateway, interactions).
        self._locales: dict[int, str] = {}

    def note_locale(self, guild_id: int, locale: str | None) -> None:
        """Remember a server's Discord locale ("fr"): its public posts' default language."""
        if locale:
            self._locales[guild_id] = locale

    def public_language(self, settings: GuildSettings) -> str:
        """Return the language of a server's public posts (reminders, digests)."""
        if settings.language is not None:
            return settings.language
        return language_of_locale(self._locales.get(settings.guild_id)) or SOURCE

    async def get(self, guild_id: int) -> GuildSettings:
        """Return the guild's settings (cached briefly)."""
        hit = self._cache.get(guild_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        async with self._db.read() as session:
            row = await get_guild_config(session, guild_id)
            settings = settings_from_row(guild_id, row)
        self._cache[guild_id] = (time.monotonic() + CACHE_TTL, settings)
        return settings

    async def get_in(self, session: AsyncSession, guild_id: int) -> GuildSettings:
        """Return the guild's settings read with ``session`` (inside a write transaction).

        A second connection opened from inside a write transaction can wait
        for a pool that the other writers, waiting for this one, hold: read
        through the transaction's own session instead (the cache is used and
        refreshed the same way).
        """
        hit = self._cache.get(guild_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        settings = settings_from_row(guild_id, await get_guild_config(session, guild_id))
        self._cache[guild_id] = (time.monotonic() + CACHE_TTL, settings)
        return settings

    async def show(self, actor: Actor) -> GuildSettings:
        """Return the settings for display to an admin."""
        require_admin(actor)
        return await self.get(actor.guild_id)

    def invalidate(self, guild_id: int) -> None:
        """Forget the cached settings of one guild."""
        self._cache.pop(guild_id, None)

    async def actor(
        self,
        *,
        guild_id: int,
        user_id: int,
        role_ids: Iterable[int],
        manage_guild: bool,
        display_name: str = "",
    ) -> Actor:
        """Return the Actor for a member, resolving the guild's MAG and secretariat roles."""
        settings = await self.get(guild_id)
        return resolve_actor(
            guild_id=guild_id,
            user_id=user_id,
            role_ids=role_ids,
            manage_guild=manage_guild,
            mag_role_id=settings.roles["mag"],
            secretariat_role_id=settings.roles["secretariat"],
            display_name=display_name,
        )

    async def _change(
        self,
        actor: Actor,
        changes: Mapping[str, Any] | Callable[[GuildConfig], Mapping[str, Any]],
        *,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> GuildSettings:
        """Apply column changes in one transaction and audit each one.

        A change that depends on the current value (add to a list, one rule of
        many) passes a function of the row: it runs on the row as locked by
        this transaction, so two admins acting at once don't undo each other.
        """
        require_admin(actor)
        now = self._clock()
        async with self._db.write() as session:
            row = await get_or_create_guild_config(session, actor.guild_id)
            if callable(changes):
                changes = changes(row)
            changed: set[str] = set()
            for column, value in changes.items():
                before = getattr(row, column)
                if before == value:
                    continue
                setattr(row, column, value)
                changed.add(column)
                await record_event(
                    session,
                    guild_id=actor.guild_id,
                    actor_id=actor.user_id,
                    action=f"config.{column}",
                    target="config",
                    before=before,
                    after=value,
                    at=now,
                )
            for hook in self.change_hooks if changed else ():
                await hook(session, row, frozenset(changed), now)
            if also is not None:
                await also(session)
            row.updated_at = now
            settings = settings_from_row(actor.guild_id, row)
        self.invalidate(actor.guild_id)
        return settings

    async def set_channel(
        self, actor: Actor, purpose: str, channel_id: int | None
    ) -> GuildSettings:
        """Choose the channel for reminders, the digest or the log (None: unset)."""
        if purpose not in CHANNEL_PURPOSES:
            raise InvalidInput(
                _(
                    "Channel purpose must be one of {purposes}.",
                    purposes=", ".join(CHANNEL_PURPOSES),
                )
            )

        async def unblock(session: AsyncSession) -> None:
            # Choosing a channel, even the same one after fixing its permissions,
            # lifts its block at once: the next post tries it.
            if channel_id is not None:
                await unblock_channel(session, guild_id=actor.guild_id, channel_id=channel_id)

        return await self._change(actor, {f"{purpose}_channel_id": channel_id}, also=unblock)

    async def set_role(
        self,
        actor: Actor,
        purpose: str,
        role_id: int | None,
        *,
        everyone: bool = False,
        managed: bool = False,
    ) -> GuildSettings:
        """Choose the role that makes someone MAG or secretariat (None: unset).

        ``@everyone`` would make every member MAG or secretariat, and a role
        managed by an integration (a bot's own role, a subscription) is given
        by Discord, not by the server's admins: both are refused.
        """
        if purpose not in ROLE_PURPOSES:
            raise InvalidInput(
                _("Role purpose must be one of {purposes}.", purposes=", ".join(ROLE_PURPOSES))
            )
        if role_id is not None and (everyone or role_id == actor.guild_id):
            if purpose == "mag":
                raise InvalidInput(
                    _(
                        "@everyone cannot be the mag role: everyone would be mag. "
                        "Create a role for it and give it to the right people."
                    )
                )
            raise InvalidInput(
                _(
                    "@everyone cannot be the secretariat role: everyone would be secretariat. "
                    "Create a role for it and give it to the right people."
                )
            )
        if role_id is not None and managed:
            raise InvalidInput(
                _(
                    "That role is managed by an integration (a bot or a subscription), so the "
                    "server's admins cannot choose who has it. Pick a role you give yourselves."
                )
            )
        return await self._change(actor, {f"{purpose}_role_id": role_id})

    async def set_timezone(self, actor: Actor, name: str) -> GuildSettings:
        """Set the guild's IANA time zone."""
        return await self._change(actor, {"timezone": check_timezone(name)})

    async def set_language(self, actor: Actor, code: str | None) -> GuildSettings:
        """Choose the language of public posts (None: the server's own locale)."""
        return await self._change(
            actor, {"language": None if code is None else check_language(code)}
        )

    async def set_digest(
        self, actor: Actor, frequency: str, time_of_day: str | None, day: str | None
    ) -> GuildSettings:
        """Set how often and when the secretariat digest is posted."""
        if frequency not in DIGEST_FREQUENCIES:
            raise InvalidInput(_("Frequency must be daily, weekly or off."))
        changes: dict[str, Any] = {"digest_frequency": frequency}
        if frequency == "off":
            return await self._change(actor, changes)
        if time_of_day is None:
            raise InvalidInput(_("Give the time of day for the digest, for example `09:00`."))
        changes["digest_time"] = parse_time_of_day(time_of_day)
        if frequency == "weekly":
            weekday = (day or WEEKDAYS[DEFAULTS.digest_weekday]).strip().lower()
            matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(weekday[:3])]
            if len(weekday) < 3 or len(matches) != 1:
                raise InvalidInput(
                    _(
                        "{day} is not a day of the week, like `monday`.",
                        day=quoted(weekday, 12),
                    )
                )
            changes["digest_weekday"] = matches[0]
        elif day is not None:
            raise InvalidInput(_("A daily digest has no day: leave `day` out, or choose weekly."))
        return await self._change(actor, changes)

    async def set_reminder_offsets(self, actor: Actor, text: str) -> GuildSettings:
        """Set the default reminder offsets from text such as ``14d,7d,1d,1h``."""
        return await self._change(actor, {"reminder_offsets": list(parse_offsets(text))})

    async def set_subthemes(self, actor: Actor, text: str) -> GuildSettings:
        """Replace the subtheme list with the names in ``text`` (separated by ``;``)."""
        names = _dedupe(_check_subtheme(name) for name in _split_subthemes(text))
        if not names:
            raise InvalidInput(_("List at least one subtheme, separated by `;`."))
        if len(names) > MAX_SUBTHEMES:
            raise InvalidInput(_too_many_subthemes())
        return await self._change(actor, {"subthemes": names})

    async def add_subtheme(self, actor: Actor, name: str) -> GuildSettings:
        """Add one subtheme at the end of the list."""
        name = _check_subtheme(name)

        def added(row: GuildConfig) -> Mapping[str, Any]:
            current = _subthemes_of(row)
            if name.casefold() in {s.casefold() for s in current}:
                raise InvalidInput(_("{name} is already a subtheme.", name=quoted(name, 100)))
            if len(current) >= MAX_SUBTHEMES:
                raise InvalidInput(_too_many_subthemes())
            return {"subthemes": [*current, name]}

        return await self._change(actor, added)

    async def remove_subtheme(self, actor: Actor, name: str) -> GuildSettings:
        """Remove one subtheme (matched ignoring case)."""
        wanted = clean_line(name).casefold()

        def removed(row: GuildConfig) -> Mapping[str, Any]:
            current = _subthemes_of(row)
            kept = [s for s in current if s.casefold() != wanted]
            if len(kept) == len(current):
                raise NotFound(
                    _(
                        "{name} is not a subtheme. `/config show` lists them.",
                        name=quoted(name, 100),
                    )
                )
            return {"subthemes": kept}

        return await self._change(actor, removed)

    async def set_cycle(self, actor: Actor, name: str) -> GuildSettings:
        """Name the annual cycle, for example ``IGF 2027``."""
        name = clean_line(name)
        if not name or len(name) > MAX_CYCLE_LENGTH:
            raise InvalidInput(
                ngettext(
                    "The cycle name needs 1 to {n} character.",
                    "The cycle name needs 1 to {n} characters.",
                    MAX_CYCLE_LENGTH,
                )
            )
        return await self._change(actor, {"cycle_name": name})

    async def set_rule_text(self, actor: Actor, name: str, text: str) -> GuildSettings:
        """Set a rule from what an admin typed, read as the rule's type; ``default`` resets it."""
        require_admin(actor)
        if name not in DEFAULTS.rules:
            raise NotFound(
                _(
                    "{name} is not a rule. `/config rule` suggests the names.",
                    name=quoted(name, 40),
                )
            )
        if text.strip().lower() == "default":

            def reset(row: GuildConfig) -> Mapping[str, Any]:
                return {"rules": {k: v for k, v in (row.rules or {}).items() if k != name}}

            return await self._change(actor, reset)
        return await self.set_rule(actor, name, parse_rule_value(name, text))

    async def set_rule(self, actor: Actor, name: str, value: Any) -> GuildSettings:
        """Override one named rule; its default must exist in ``DEFAULTS.rules``."""
        if name not in DEFAULTS.rules:
            raise InvalidInput(_("{name} is not a rule this bot knows.", name=quoted(name, 40)))
        return await self._change(actor, lambda row: {"rules": {**(row.rules or {}), name: value}})


def _subthemes_of(row: GuildConfig) -> list[str]:
    """Return the row's subthemes, the default list when it never set any."""
    return list(row.subthemes if row.subthemes is not None else DEFAULTS.subthemes)


MAX_RULE_NUMBER: Final = 100_000
_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}


def parse_rule_value(name: str, text: str) -> Any:
    """Return ``text`` as a value of the type of rule ``name``'s default.

    Yes/no rules take true/false (yes/no, on/off); numbers are whole numbers
    from 0 (0 turns a limit off); lists are names separated by ``;``.
    """
    default = DEFAULTS.rules[name]
    word = text.strip()
    if isinstance(default, bool):
        if word.lower() in _TRUE_WORDS:
            return True
        if word.lower() in _FALSE_WORDS:
            return False
        raise InvalidInput(_("`{name}` is a yes/no rule: give true or false.", name=name))
    if isinstance(default, int):
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not re.fullmatch(r"[0-9]{1,7}", word) or int(word) > MAX_RULE_NUMBER:
            raise InvalidInput(
                _(
                    "`{name}` takes a whole number from 0 to {most} (0 turns it off).",
                    name=name,
                    most=MAX_RULE_NUMBER,
                )
            )
        return int(word)
    if isinstance(default, list):
        return _dedupe(_check_subtheme(part) for part in _split_subthemes(word))
    raise InvalidInput(_("`{name}` cannot be changed with a command.", name=name))


def format_rule_value(value: Any) -> str:
    """Return a rule's value as an admin would type it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or _("(none)")
    return str(value)


def suggest_rules(text: str, limit: int = 25) -> list[str]:
    """Return rule names containing ``text``."""
    needle = text.strip().lower()
    return [name for name in sorted(DEFAULTS.rules) if needle in name][:limit]


def describe_weekday(index: int) -> str:
    """Return the weekday's name, capitalised."""
    return formats.weekday(index)
