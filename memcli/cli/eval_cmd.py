"""`memcli eval locomo FILE`: evidence recall@k per strategy on a LoCoMo-shaped file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memcli.cli.eval_ops import ops, strategy_specs
from memcli.cli.options import DataDir, print_json, settings_for

app = typer.Typer(help="Score strategies on public benchmarks.", no_args_is_help=True)
app.command("ops")(ops)


@app.command("locomo")
def locomo(
    file: Annotated[Path, typer.Argument(help="A file in the standard locomo10.json shape.", exists=True,
                                         dir_okay=False)],
    strategy: Annotated[str, typer.Option("--strategy", "-S", help="Comma-separated strategies, or all. A variant "
                                          "sets parameters: rag-turns:mode=vector (several: a=1;b=2).")] = "rag-turns",
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "5,10,20",
    limit_convs: Annotated[int | None, typer.Option("--limit-convs", min=1, help="Only the first N conversations.")]
    = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write per-category rows as CSV here.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write an SVG chart of recall here.")] = None,
    details: Annotated[bool, typer.Option("--details", help="Include every question in the JSON.")] = False,
    qa: Annotated[bool, typer.Option("--qa", help="Also answer each question with the configured model from the "
                                     "memories retrieved at the middle k; report token F1 (LoCoMo's metric).")]
    = False,
    data_dir: DataDir = None,
) -> None:
    """Ingest each conversation with its dates, then measure evidence recall@k per strategy and category."""
    from memcli.embed.embedder import SentenceTransformerEmbedder
    from memcli.eval.locomo import evaluate
    from memcli.eval.report import print_table, write_csv, write_json, write_svg
    from memcli.model.factory import build_chat_model
    from memcli.replay.importers import read_locomo
    from memcli.strategy.registry import StrategyRegistry

    settings = settings_for(data_dir)
    ks = sorted({int(x) for x in k.split(",") if x.strip()})
    registry = StrategyRegistry()
    specs = strategy_specs(registry, strategy)
    conversations = read_locomo(file)[:limit_convs]
    embedder = SentenceTransformerEmbedder(settings.embedder)
    model = build_chat_model(settings)
    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("loading the embedder and the tokenizer…", total=None)

        def step(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done, total=total)

        results = evaluate(conversations, specs, settings, ks=ks, embedder=embedder,
                           count_tokens=model.count_tokens, registry=registry, progress=step,
                           qa_model=model if qa else None)
    seconds = time.perf_counter() - started
    print_table(results, ks)
    console.print(f"{len(conversations)} conversations, {seconds:.0f} s "
                  f"({seconds / max(1, len(conversations) * len(specs)):.1f} s per conversation per strategy)")
    if json_out:
        write_json(results, ks, json_out, details)
    if csv_out:
        write_csv(results, ks, csv_out)
    if chart:
        write_svg(results, ks, chart)
    if not (json_out or csv_out or chart):
        return
    print_json({"written": [str(p) for p in (json_out, csv_out, chart) if p]})
