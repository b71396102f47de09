"""`memcli replay FILE|DIR`: play scripted sessions headless and check their expectations."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from memcli.cli.options import DataDir, Json, print_json, settings_for
from memcli.cli.render import escape


def replay(
    target: Annotated[Path | None, typer.Argument(help="A session file or a folder of them.")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", "-S", help="Override each file's strategy.")] = None,
    compare: Annotated[str | None, typer.Option("--compare", help="Run under several strategies: S1,S2,… or all.")] = None,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed expectation.")] = False,
    record: Annotated[bool, typer.Option("--record", help="Call the model and re-record the sessions' cassettes.")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the session file JSON schema and exit.")] = False,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Replay sessions into fresh temporary data dirs; exit 1 if any expectation fails."""
    from memcli.replay.format import session_schema
    from memcli.replay.loading import session_files

    if schema:
        sys.stdout.write(json.dumps(session_schema(), indent=2) + "\n")
        return
    if target is None:
        raise typer.BadParameter("give a session file or folder (or --schema)")
    from memcli.embed.factory import build_embedder
    from memcli.model.factory import build_chat_model
    from memcli.replay.runner import run_session
    from memcli.strategy.registry import StrategyRegistry

    settings = settings_for(data_dir)
    files = session_files(target)
    registry = StrategyRegistry()
    if compare:
        strategies = registry.names() if compare == "all" else [s.strip() for s in compare.split(",") if s.strip()]
        for name in strategies:
            registry.load(name)
    else:
        strategies = [strategy]
    embedder = build_embedder(settings)

    def model(spec, path: Path):
        cassette = path.parent / spec.cassette if spec.cassette else None
        mode = "record" if record else ("replay" if cassette is not None and cassette.exists() else "auto")
        return build_chat_model(settings, cassette=cassette, mode=mode)

    reports = []
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        overall = progress.add_task("sessions", total=len(files) * len(strategies))
        for name in strategies:
            for path in files:
                task = progress.add_task(f"  {path.name} [{name or 'default'}]", total=None)
                reports.append(run_session(
                    path, settings, strategy=name, embedder=embedder, registry=registry,
                    model=lambda spec, p=path: model(spec, p), fail_fast=fail_fast,
                    on_step=lambda i, n, t=task: progress.update(t, completed=i, total=n)))
                progress.remove_task(task)
                progress.advance(overall)
                if fail_fast and not reports[-1].passed:
                    break
    if json_out:
        print_json([r.as_dict() for r in reports])
    elif compare:
        _compare_table(reports, strategies)
    else:
        _report(reports)
    if not all(r.passed for r in reports):
        raise typer.Exit(1)


def _report(reports) -> None:
    console = Console()
    for r in reports:
        mark = "[green]✓[/]" if r.passed else "[red]✗[/]"
        console.print(f"{mark} [bold]{escape(r.title)}[/] [dim]({escape(Path(r.path).name)}, {r.strategy}, {r.turns} turns, "
                      f"{r.memories_kept} memories, {r.seconds:.1f} s)[/]")
        if r.error:
            console.print(f"    [red]error: {escape(r.error)}[/]")
        for c in r.checks:
            console.print(f"    {'[green]pass[/]' if c.passed else '[red]FAIL[/]'} step {c.step} {c.kind}: {escape(c.detail)}")
    ok = sum(r.passed for r in reports)
    console.print(f"\n{ok}/{len(reports)} sessions met every expectation")


def _compare_table(reports, strategies) -> None:
    """One row per session and strategy (a narrow terminal keeps each row on one line); a session that
    ended in an error says so in its row, with the reason under the table."""
    table = Table(title="strategies compared", caption="met: expectations met · kept: memories kept · hits: "
                  "retrieval hits · tokens: memory-context tokens", pad_edge=False)
    table.add_column("session", overflow="fold", ratio=1)
    table.add_column("strategy", overflow="fold")
    for col in ("met", "kept", "hits", "tokens", "s"):
        table.add_column(col, justify="right", no_wrap=True)
    by = {(Path(r.path).name, r.strategy): r for r in reports}
    errors: list[str] = []
    for file in dict.fromkeys(Path(r.path).name for r in reports):
        first = True
        for name in strategies:
            r = by.get((file, name))
            if r is None:
                continue
            if r.error:
                errors.append(f"[red]({len(errors) + 1})[/] {escape(Path(file).stem)} · {escape(name or 'default')}: "
                              f"{escape(r.error)}")
            met = f"[red]error ({len(errors)})[/]" if r.error else f"[{'green' if r.passed else 'red'}]{r.met}[/]"
            table.add_row(Text(Path(file).stem if first else ""), Text(name or "default"), met, str(r.memories_kept),
                          str(r.retrieval_hits), str(r.context_tokens), f"{r.seconds:.1f}")
            first = False
    console = Console()
    console.print(table)
    for line in errors:
        console.print(line)
