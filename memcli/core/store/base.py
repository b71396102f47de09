"""What the parts of the store share: one connection, its lock, and the open write batch."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import duckdb

from memcli.core.pending import PendingBatch


class StoreBase:
    """The state every part of `EventStore` reads (see log.py, which sets it up)."""

    path: Path
    read_only: bool
    _con: duckdb.DuckDBPyConnection
    _lock: threading.RLock
    _pending: PendingBatch | None  # appends of an open write batch (see `EventStore.batch`)
    _next_seq: int

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._con.execute(sql, params).fetchone()[0]

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def flush(self) -> None:
        """Write what a batch has appended so far (see `EventStore.flush`)."""
        raise NotImplementedError
