"""`memcli rebuild`, `export`, `import`: the log and its projections."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from memcli.cli.options import DataDir, Json, print_json, require_empty, settings_for


def rebuild(data_dir: DataDir = None, json_out: Json = False) -> None:
    """Rebuild the memory tables and every vector table from the event log, rewrite the database file
    and drop old table versions (finishes an interrupted erase; removes leftover temporary files)."""
    from memcli.engine import Engine

    started = time.perf_counter()
    with Engine(settings_for(data_dir)) as engine:
        stats = engine.rebuild(purge=True)
    stats["seconds"] = round(time.perf_counter() - started, 3)
    if json_out:
        print_json(stats)
    else:
        typer.echo(f"rebuilt {stats['memories']} memories from {stats['events']} events in {stats['seconds']} s")


def export(
    path: Annotated[Path, typer.Argument(help="Target file: .jsonl or .parquet.")],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Write the whole event log (the source of truth) to a JSONL or Parquet file."""
    from memcli.core.store.log import EventStore
    from memcli.core.transfer import export_events

    store = EventStore(settings_for(data_dir).data_dir, read_only=True)
    try:
        n = export_events(store, path)
    finally:
        store.close()
    print_json({"events": n, "file": str(path)}) if json_out else typer.echo(f"exported {n} events to {path}")


def import_(
    path: Annotated[Path, typer.Argument(help="A .jsonl or .parquet export.", exists=True, dir_okay=False)],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Load an export into an empty data dir and rebuild the memories and the index from it."""
    from memcli.core.transfer import import_events, read_export
    from memcli.engine import Engine

    events = read_export(path)  # the whole file is checked before the data dir is touched
    settings = settings_for(data_dir)
    require_empty(settings.data_dir)
    with Engine(settings) as engine:
        n = import_events(engine.store, events)
        stats = engine.rebuild()
    out = {"events": n, "memories": stats["memories"]}
    print_json(out) if json_out else typer.echo(f"imported {n} events, {stats['memories']} memories")


def backup(
    target: Annotated[Path, typer.Argument(help="The backup file to create (a DuckDB database).")],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """A consistent copy of the event log, even while memcli is running. Restore: put it in a data
    dir as memcli.duckdb and run `memcli rebuild`."""
    from memcli.core.store.files import backup_database

    n = backup_database(settings_for(data_dir).data_dir, target)
    print_json({"events": n, "file": str(target)}) if json_out else typer.echo(f"backed up {n} events to {target}")
