"""The services of one running bot, built once and shared by every cog."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.services.audit import AuditService
from bot.services.balance import (
    BalanceService,
    balance_decision_hook,
    balance_digest_section,
)
from bot.services.config import ConfigService
from bot.services.consultations import ConsultationService, chase_consultation
from bot.services.deadlines import DeadlineService
from bot.services.decisions import DecisionService, chase_confirmations
from bot.services.digests import DigestService
from bot.services.email import EmailService
from bot.services.export import ExportService
from bot.services.imports import ImportService
from bot.services.languages import LanguageService
from bot.services.meetings import MeetingService, meetings_digest_section
from bot.services.panellists import PanellistService
from bot.services.pending import PendingService
from bot.services.people import PeopleService
from bot.services.profiles import ProfileService
from bot.services.proposals import ProposalService, deadlines_from_storage
from bot.services.reminders import ReminderService, default_claimer
from bot.services.reviews import ReviewService
from bot.services.rounds import RoundService
from bot.services.screening import ScreeningService, screening_section_for
from bot.services.sending import OutboxService
from bot.services.similarity import SimilarityService
from storage.database import Database
from storage.types import utcnow


@dataclass
class Services:
    """Every service, wired to one database and one clock."""

    db: Database
    clock: Callable[[], datetime]
    config: ConfigService
    # Proposals, panellists and MAG evaluation (issue 3), built from the above.
    proposals: ProposalService = dataclasses.field(init=False)
    screening: ScreeningService = dataclasses.field(init=False)
    panellists: PanellistService = dataclasses.field(init=False)
    people: PeopleService = dataclasses.field(init=False)
    pending: PendingService = dataclasses.field(init=False)
    profiles: ProfileService = dataclasses.field(init=False)
    reviews: ReviewService = dataclasses.field(init=False)
    # Merge suggestions for the MAG (issue 13).
    similarity: SimilarityService = dataclasses.field(init=False)
    export: ExportService = dataclasses.field(init=False)
    audit: AuditService = dataclasses.field(init=False)
    # Deadlines, reminders and digests (issue 4), sent through the outbox (issue 10).
    outbox: OutboxService = dataclasses.field(init=False)
    deadlines: DeadlineService = dataclasses.field(init=False)
    reminders: ReminderService = dataclasses.field(init=False)
    digests: DigestService = dataclasses.field(init=False)
    # Stakeholder balance (issue 5).
    balance: BalanceService = dataclasses.field(init=False)
    consultations: ConsultationService = dataclasses.field(init=False)
    # Decisions in batches, told to proposers, slots confirmed (issue 13).
    decisions: DecisionService = dataclasses.field(init=False)
    rounds: RoundService = dataclasses.field(init=False)
    # Who reads which language (issue 12).
    languages: LanguageService = dataclasses.field(init=False)
    # MAG meetings (issue 15).
    meetings: MeetingService = dataclasses.field(init=False)
    # Nominees not on Discord: email invitations and the consent page (issue 16).
    email: EmailService = dataclasses.field(init=False)
    # A call run on pretalx, Sessionize or a spreadsheet, imported (issue 16).
    imports: ImportService = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        db, clock, config = self.db, self.clock, self.config
        self.languages = LanguageService(db, config)
        deadline_passed = deadlines_from_storage(db)
        # Decisions answer with their effect on programme balance (issue 5).
        self.screening = ScreeningService(db, clock, config)
        self.proposals = ProposalService(
            db,
            clock,
            config,
            deadline_passed,
            on_decision=balance_decision_hook,
            screen_now=self.screening.failures_now,
        )
        self.panellists = PanellistService(db, clock, config, on_decision=balance_decision_hook)
        self.people = PeopleService(db, clock, config)
        self.pending = PendingService(db, clock)
        self.profiles = ProfileService(db, clock, config)
        self.export = ExportService(db, clock)
        self.audit = AuditService(db, config)
        self.outbox = OutboxService(db, clock, config, claimer=default_claimer())
        # Reviewers are told of their assignments by DM, once, through the outbox (issue 13).
        self.reviews = ReviewService(
            db,
            clock,
            config,
            deadline_passed,
            outbox=self.outbox,
            person_language=self._dm_language,
        )
        self.similarity = SimilarityService(db, config)
        self.deadlines = DeadlineService(db, clock, config)
        self.reminders = ReminderService(
            db, clock, config, self.outbox, person_language=self._dm_language
        )
        self.digests = DigestService(db, clock, config, self.outbox)
        # Open consultations (issue 14): their closing deadlines name who is not heard yet.
        self.consultations = ConsultationService(db, clock, config, self.deadlines, self.outbox)
        self.reminders.chasers["consultation"] = chase_consultation
        self.decisions = DecisionService(
            db, clock, config, self.deadlines, self.outbox, person_language=self._dm_language
        )
        self.reminders.chasers["confirmations"] = chase_confirmations
        # A second look at the proposals near the cut (issue 13).
        self.rounds = RoundService(
            db,
            clock,
            config,
            self.reviews,
            self.deadlines,
            self.outbox,
            person_language=self._dm_language,
        )
        config.change_hooks.append(self.digests.on_config_change)
        self.balance = BalanceService(db, clock, config)
        self.digests.add_section("screening", screening_section_for(self.screening), order=20)
        self.digests.add_section("balance", balance_digest_section, order=40)
        # MAG meetings (issue 15): their start is a deadline; their minutes go in the digest.
        self.meetings = MeetingService(db, clock, config, self.deadlines)
        self.digests.add_section("meetings", meetings_digest_section, order=35)
        # Off until the process has SMTP and the consent pages (``EmailService.use``).
        self.email = EmailService(db, clock, config, self.outbox, self.panellists)
        self.imports = ImportService(db, clock, config)

    async def _dm_language(self, user_id: int, guild_id: int) -> str:
        return await self.languages.person(user_id, guild_id=guild_id)

    @classmethod
    def create(cls, db: Database, clock: Callable[[], datetime] = utcnow) -> Services:
        """Return the services for ``db``; tests pass their own ``clock``."""
        return cls(db=db, clock=clock, config=ConfigService(db, clock))
