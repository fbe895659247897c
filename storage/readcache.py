"""Answers to reads, kept until the next write: the quick commands skip the database.

Most interactions read (a list, a proposal, a queue) and most reads repeat
what the last one found: a MAG of forty reads the same lists all day, and
nothing changes between two writes. ``ReadCache.get(key, load, now=...)``
returns what ``load`` returned for ``key`` before, as long as

- no write transaction of this process that ended since it was read wrote
  one of the ``tables`` it read (the database notes which tables each
  ``Database.write`` wrote, committed or not; raw SQL it cannot name counts
  as every table), and
- it is younger than ``ttl`` on the caller's clock (2 s): the bound on
  staleness for what this process cannot see, a write by another process
  on the same database (a second shard, the CLI) or the passing of time
  (a deadline passing, a round closing; the sandbox's clock jumps count
  too, since the caller's clock is the service's clock).

A read that overlapped a write is returned but not kept. Concurrent misses
on one key share one load. ``load`` must return something its callers only
read (views, tuples): the same object is handed to every hit. An exception
is never kept. Keys name the read and its guild, and carry
every argument the answer depends on; anything that varies with who asks
(visibility) is applied by the caller after the cache, or is in the key.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

T = TypeVar("T")

TTL: Final = timedelta(seconds=2)
SIZE: Final = 4096  # entries; least recently used go first


@dataclass(slots=True)
class _Entry:
    generation: Hashable
    loaded_at: datetime
    value: Any


class ReadCache:
    """A small LRU of read results, valid until their tables are written, and ``ttl``.

    ``generation(tables)`` returns a token that changes when a write touches one of them.
    """

    def __init__(
        self,
        generation: Callable[[Sequence[str]], Hashable],
        *,
        ttl: timedelta = TTL,
        size: int = SIZE,
    ) -> None:
        self._generation = generation
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._loading: dict[tuple[Hashable, Hashable], asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(
        self,
        key: Hashable,
        load: Callable[[], Awaitable[T]],
        *,
        now: datetime,
        tables: Sequence[str],
    ) -> T:
        """Return the kept answer for ``key``, else ``await load()`` (kept when still valid).

        ``tables``: every table ``load`` reads.
        """
        generation = self._generation(tables)
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.generation == generation
            and timedelta() <= now - entry.loaded_at < self.ttl
        ):
            self._entries.move_to_end(key)
            self.hits += 1
            value: T = entry.value
            return value
        self.misses += 1
        flight = (key, generation)
        pending = self._loading.get(flight)
        if pending is not None:
            try:
                shared: T = await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled
                return await load()  # the first caller was: read for ourselves
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[flight] = future
        try:
            value = await load()
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(value)
            if self._generation(tables) == generation:  # none of its tables written meanwhile
                self._entries[key] = _Entry(generation, now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return value
        finally:
            del self._loading[flight]

    def clear(self) -> None:
        """Forget every kept answer."""
        self._entries.clear()
