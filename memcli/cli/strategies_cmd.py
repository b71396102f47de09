"""`memcli strategies list|show|backfill`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from memcli.cli.options import DataDir, Json, print_json, require_data, settings_for
from memcli.strategy.registry import StrategyLoadError, StrategyRegistry, parse_params

app = typer.Typer(help="The memory strategies: list them, show their parameters, backfill one.",
                  no_args_is_help=True)
Set = Annotated[list[str] | None, typer.Option("--set", help="A strategy parameter, name=value (repeatable).")]


@app.command("list")
def list_(json_out: Json = False) -> None:
    """Every strategy with its description and source paper (a broken plugin is a warning)."""
    registry = StrategyRegistry()
    sources = registry.sources()
    rows = []
    for name, source in sources.items():
        try:
            cls = registry.load(name)
            rows.append({"name": name, "description": cls.description, "paper": cls.paper, "origin": source.origin,
                         "ok": True})
        except StrategyLoadError as exc:
            typer.echo(f"memcli: warning: {exc}", err=True)
            rows.append({"name": name, "description": "", "paper": "", "origin": source.origin, "ok": False,
                         "error": registry.problems.get(name, str(exc))})
    if json_out:
        print_json(rows)
        return
    table = Table(title="memory strategies")
    for col in ("name", "description", "paper"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"] if r["ok"] else f"[red]{r['name']} (broken)[/]", r["description"],
                      r["paper"] or r.get("error", ""))
    Console().print(table)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Strategy name.")], json_out: Json = False) -> None:
    """A strategy's description, paper and parameters (name, type, default, range)."""
    registry = StrategyRegistry()
    info = registry.load(name).describe()
    info["origin"] = registry.sources()[name].origin
    if json_out:
        print_json(info)
        return
    console = Console()
    console.print(f"[bold]{info['name']}[/]: {info['description']}\n[dim]{info['paper']}[/]\n[dim]{info['origin']}[/]")
    table = Table(title="parameters (set with --set name=value)")
    for col in ("name", "type", "default", "range", "help"):
        table.add_column(col, overflow="fold")
    for p in info["params"]:
        rng = ", ".join(map(str, p["choices"])) if p["choices"] else (
            f"{p['min']} … {p['max']}" if p["min"] is not None or p["max"] is not None else "")
        table.add_row(p["name"], p["type"], str(p["default"]), rng, p["help"])
    console.print(table)


@app.command("backfill")
def backfill(
    name: Annotated[str, typer.Argument(help="Strategy whose (empty) namespace is filled.")],
    set_: Set = None,
    restart: Annotated[bool, typer.Option("--restart", help="Delete the namespace's memories first (as events, "
                                          "restorable): finishes an interrupted backfill.")] = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Run the stored conversation through a strategy (a backfill), as if it had been used from the start."""
    from memcli.chat import open_chat

    settings = settings_for(data_dir)
    require_data(settings.data_dir)
    StrategyRegistry().load(name)  # an unknown name is refused before the data dir is opened
    with open_chat(settings, strategy=name, params=parse_params(set_ or []), background=False) as chat:
        with Progress(TextColumn("backfill {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=json_out) as progress:
            task = progress.add_task(name, total=None)
            turns = chat.backfill(k=settings.top_k, restart=restart,
                                     progress=lambda i, n: progress.update(task, completed=i, total=n))
        count = len(chat.engine.store.memories(name, ["active"]))
    if json_out:
        print_json({"strategy": name, "turns": turns, "memories": count})
    else:
        typer.echo(f"{name}: {turns} turns processed, {count} active memories")
