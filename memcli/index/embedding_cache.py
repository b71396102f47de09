"""The embedding cache: each text's vector, per embedder, so a text is embedded once.

It belongs to the index (a cache of a projection), not to the event log: it lives next to the
LanceDB tables, in SQLite (standard library; one file, safe for a second process to open, and
a vector is one float32 blob). Losing it costs only re-embedding. A purge (after a hard erase)
keeps only the vectors of texts the index still holds, and vacuums the file with SQLite's
`secure_delete` on, so no freed page keeps a hash of an erased text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

CACHE_FILE = "embeddings.sqlite"


class EmbeddingCache:
    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / CACHE_FILE
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        """The connection, opened on first use (a reader that never embeds never creates the file)."""
        if self._con is None:
            try:
                self._con = self._connect()
            except sqlite3.DatabaseError:  # a damaged file: a cache is started again, never repaired
                self._drop()
                self._con = self._connect()
        return self._con

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = OFF")  # a cache: a lost write is re-embedded
            con.execute("PRAGMA secure_delete = ON")
            con.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, text_hash TEXT NOT NULL, "
                        "vector BLOB NOT NULL, PRIMARY KEY (model, text_hash)) WITHOUT ROWID")
            con.execute("SELECT count(*) FROM vectors").fetchone()
        except sqlite3.DatabaseError:
            con.close()
            raise
        return con

    def _drop(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        for suffix in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def get(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        if not hashes:
            return {}
        sql = "SELECT text_hash, vector FROM vectors WHERE model = ? AND text_hash IN (SELECT value FROM json_each(?))"
        with self._lock:  # one JSON parameter: the statement does not grow with the number of hashes
            try:
                rows = self._db().execute(sql, [model, json.dumps(hashes)]).fetchall()
            except sqlite3.DatabaseError:  # damaged since it was opened: every text is a miss
                self._drop()
                return {}
        return {h: np.frombuffer(blob, dtype=np.float32) for h, blob in rows}

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        rows = [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()]
        with self._lock:
            try:
                con = self._db()
                with con:  # one transaction
                    con.execute("BEGIN")
                    con.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
            except sqlite3.DatabaseError:
                self._drop()

    def retain(self, model: str, hashes: set[str]) -> None:
        """Keep only these vectors (of this model; other models' go too), then rewrite the file."""
        with self._lock:
            con = self._db()
            with con:
                con.execute("BEGIN")
                con.execute("CREATE TEMP TABLE IF NOT EXISTS keep (text_hash TEXT PRIMARY KEY)")
                con.execute("DELETE FROM keep")
                con.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(h,) for h in hashes])
                con.execute("DELETE FROM vectors WHERE model <> ? OR text_hash NOT IN (SELECT text_hash FROM keep)",
                            [model])
            con.execute("VACUUM")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
