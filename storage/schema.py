"""Every table, imported so that ``metadata`` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

import storage.consultations as _consultations  # noqa: F401  (issue 14: consultations)
import storage.deadlines as _deadlines  # noqa: F401  (issue 4: deadlines, reminders)
import storage.decisions as _decisions  # noqa: F401  (issue 13: decisions)
import storage.delivery as _delivery  # noqa: F401  (issue 4: channel blocks)
import storage.digests as _digests  # noqa: F401  (issue 4: digest runs)
import storage.languages as _languages  # noqa: F401  (issue 12: readers' languages)
import storage.meetings as _meetings  # noqa: F401  (issue 15: MAG meetings)
import storage.outbox as _outbox  # noqa: F401  (issue 10: the outbox)
import storage.panellists as _panellists  # noqa: F401  (issue 3: people, participations)
import storage.pending as _pending  # noqa: F401  (issue 9: confirmations, drafts)
import storage.profiles as _profiles  # noqa: F401  (issue 3: MAG profiles)
import storage.proposals as _proposals  # noqa: F401  (issue 3: proposals)
import storage.reviews as _reviews  # noqa: F401  (issue 3: reviews, conflicts)
from storage import audit, config  # noqa: F401  (registers the tables)

metadata = SQLModel.metadata
