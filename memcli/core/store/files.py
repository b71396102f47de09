"""The database file: opening it for the writer, sandboxed snapshot copies for readers, backups,
and what to tell the user when it cannot be opened."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import duckdb

from memcli.core.store.migrations import migrate
from memcli.errors import MemcliError

DB_FILE = "memcli.duckdb"


class StoreError(MemcliError):
    """The database cannot be opened or used; the message says what to do."""


class StoreBusyError(StoreError):
    """Another process has the database open for writing."""


# A reader's connection reaches memcli's tables and nothing else: no files, no network, no
# extensions, and the settings cannot be changed back (DuckDB's own sandbox, see "Securing DuckDB").
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """The writer's connection, migrated to the current schema."""
    con = duckdb.connect(str(path))
    # No automatic checkpoints while this writer runs: the main file then only changes at
    # close, so a reader can copy it and the append-only WAL for a consistent snapshot.
    con.execute("SET checkpoint_threshold = '1TB'")
    migrate(con)
    return con


def open_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """`connect_writer`, with a held or damaged file turned into a StoreError that says what to do."""
    try:
        return connect_writer(path)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise StoreError(corrupt_advice(path, exc)) from None
        holder = re.search(r"PID (\d+)", str(exc))
        raise StoreBusyError(f"{path} is locked by {'pid ' + holder.group(1) if holder else 'another process'}"
                             " (not a memcli writer): close it first") from None
    except duckdb.Error as exc:
        raise StoreError(corrupt_advice(path, exc)) from None


def snapshot_copy(path: Path, *, read_only: bool) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """Copy a database file and then its WAL into a temporary folder and open the copy.

    The writer never checkpoints while it runs (see `connect_writer`), so the main file is
    stable and the WAL only grows; a transaction being written during the copy is a torn WAL
    tail, which DuckDB drops on replay. Only a writer closing at that very instant can spoil a
    copy, which is then detected and taken again. A read-only copy is opened sandboxed.
    """
    last: Exception | None = None
    for _ in range(3):
        tmp = Path(tempfile.mkdtemp(prefix="memcli-snapshot-"))
        copy = tmp / DB_FILE
        try:
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
            con = duckdb.connect(str(copy), read_only=read_only, config=dict(SANDBOX) if read_only else {})
            con.execute("SELECT count(*) FROM events").fetchone()
            return tmp, con
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise  # no room for the copy, or no right to read: the CLI says which in one line
        except duckdb.Error as exc:
            last = exc
            shutil.rmtree(tmp, ignore_errors=True)
    raise StoreError(corrupt_advice(path, last))


def corrupt_advice(path: Path, exc: Exception | None) -> str:
    first = (str(exc).splitlines() or [type(exc).__name__])[0] if exc is not None else "unreadable"
    return (f"cannot open {path}: {first}. If the file is damaged, restore it from a backup "
            f"(`memcli backup` makes one) or move it aside and re-import an export.")


def backup_database(data_dir: Path, target: Path) -> int:
    """A consistent single-file copy of the event log, also while a writer runs. Returns its events."""
    source = data_dir / DB_FILE
    if not source.exists():
        raise StoreError(f"no memcli data in {data_dir}")
    if target.exists():
        raise StoreError(f"{target} exists: choose a new file name")
    tmp, con = snapshot_copy(source, read_only=False)  # read-write: the WAL is folded in
    try:
        con.execute("CHECKPOINT")
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp / DB_FILE), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return events
