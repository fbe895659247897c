"""The services of one running bot, built once and shared by every cog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.services.config import ConfigService
from storage.database import Database
from storage.types import utcnow


@dataclass
class Services:
    """Every service, wired to one database and one clock."""

    db: Database
    clock: Callable[[], datetime]
    config: ConfigService

    @classmethod
    def create(cls, db: Database, clock: Callable[[], datetime] = utcnow) -> Services:
        """Return the services for ``db``; tests pass their own ``clock``."""
        return cls(db=db, clock=clock, config=ConfigService(db, clock))
