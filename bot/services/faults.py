"""One way to log a failure of background work: an outage in one line, a bug with its traceback.

While the database is away every tick fails the same way; a traceback for
each would bury the log (an earlier version wrote 2.5 MB in 70 s on a full
disk). The work is retried by its loop either way.
"""

from __future__ import annotations

import logging

from storage.database import is_unavailable


def outage(error: BaseException) -> str:
    """Return ``error`` as one short line."""
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def log_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Log that ``what`` failed with ``error``: one warning if the database is away."""
    if is_unavailable(error):
        log.warning("%s: database unavailable (%s); will try again", what, outage(error))
    else:
        log.error("%s failed", what, exc_info=(type(error), error, error.__traceback__))
