"""`memcli rebuild`: projections from the log."""

from __future__ import annotations

import time

import typer

from memcli.cli.options import DataDir, Json, print_json, settings_for


def rebuild(data_dir: DataDir = None, json_out: Json = False) -> None:
    """Rebuild the memory tables and every vector table from the event log."""
    from memcli.engine import Engine

    started = time.perf_counter()
    with Engine(settings_for(data_dir)) as engine:
        stats = engine.rebuild()
    stats["seconds"] = round(time.perf_counter() - started, 3)
    if json_out:
        print_json(stats)
    else:
        typer.echo(f"rebuilt {stats['memories']} memories from {stats['events']} events in {stats['seconds']} s")
