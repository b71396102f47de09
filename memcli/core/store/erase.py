"""The store's part of a hard erase (see `memcli.core.erasure` for what goes and why): finding
what an erase removes, and rewriting the file afterwards so no freed block keeps old bytes.
The scrub itself runs inside the append that records the erase (see `EventStore.append`)."""

from __future__ import annotations

import os
from typing import Sequence

import duckdb

from memcli.core.erasure import Erasure, closure
from memcli.core.projection import Key
from memcli.core.store.base import StoreBase
from memcli.core.store.files import connect_writer


class EraseParts(StoreBase):
    def erasure_of(self, keys: Sequence[Key]) -> Erasure:
        """What a hard erase of `keys` removes: those memories, the turns they came from, and what
        was derived from those (see `memcli.core.erasure`)."""
        with self._lock:
            self.flush()
            return closure(self._con, keys)

    def rewrite_file(self) -> None:
        """Rewrite the file so no freed block keeps old bytes (after an erase; idempotent, see `append`).

        The live data is copied into a fresh file that replaces the old one; a failure (full
        disk) leaves the old file and connection as they were and removes the partial copy.
        """
        with self._lock:
            for leftover in self.path.parent.glob(f"{self.path.name}.rewrite*"):
                leftover.unlink()
            self.flush()
            fresh = self.path.with_name(self.path.name + ".rewrite")
            con = self._con
            try:
                con.execute("CHECKPOINT")
                database = con.execute("SELECT current_database()").fetchone()[0]
                con.execute(f"ATTACH '{fresh}' AS rewrite_target")
                try:
                    con.execute(f"COPY FROM DATABASE \"{database}\" TO rewrite_target")
                finally:
                    con.execute("DETACH rewrite_target")
                con.close()
                os.replace(fresh, self.path)
                self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            except BaseException:
                try:
                    con.close()
                except duckdb.Error:
                    pass
                raise
            finally:
                for leftover in self.path.parent.glob(f"{self.path.name}.rewrite*"):
                    leftover.unlink()
                self._con = connect_writer(self.path)
