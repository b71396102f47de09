"""`memcli eval ops PATH…`: the operation-level evaluation (extraction, updating, QA) per strategy."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Sequence

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memcli.cli.options import DataDir, print_json, settings_for

if TYPE_CHECKING:  # the engine and the registry load with the command, not with the CLI
    from memcli.eval.locomo import StrategySpec
    from memcli.strategy.registry import StrategyRegistry


class JudgeMode(str, Enum):
    auto = "auto"
    on = "on"
    off = "off"


def strategy_specs(registry: StrategyRegistry, text: str, variants: Sequence[str] = ()) -> list[StrategySpec]:
    """`-S a,b:x=1` (or all but full-context, then `variants`) → specs; unknown names and bad parameters fail
    before any work."""
    from memcli.eval.locomo import StrategySpec

    names = [n for n in registry.names() if n != "full-context"] + list(variants) if text == "all" else \
        [s.strip() for s in text.split(",") if s.strip()]
    specs = [StrategySpec.parse(n) for n in names]
    for spec in specs:
        registry.create(spec.name, spec.params)
    return specs


def ops(
    paths: Annotated[list[Path], typer.Argument(help="Annotated conversations: memcli YAML files (eval_sets/ops/), "
                                                "HaluMem JSON / JSON Lines files, or folders of them.", exists=True)],
    strategy: Annotated[str, typer.Option("--strategy", "-S", help="Comma-separated strategies, or all. A variant "
                                          "sets parameters: mem0:top_s=3.")] = "all",
    k: Annotated[int, typer.Option("--k", min=1, help="Memories retrieved per question.")] = 5,
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0, help="Cosine at which a "
                                                    "memory matches a point (default: 0.55, see docs).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write one row per strategy as CSV here.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write an SVG chart of every metric here.")] = None,
    judge: Annotated[JudgeMode, typer.Option("--judge",
                                       help="Match memory points to memories with the configured model as a judge: "
                                            "auto = when the model passes the llm_memory probe (the embedded "
                                            "135M does not), on = with any model, off = embedding similarity "
                                            "only.")] = JudgeMode.auto,
    details: Annotated[bool, typer.Option("--details", help="List every miss, fabrication, stored forbidden point, "
                                          "failed update and wrong answer with its provenance (and put them in "
                                          "the JSON).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Ingest each annotated conversation per strategy, then score what was stored against its memory points."""
    from memcli.embed.embedder import SentenceTransformerEmbedder
    from memcli.eval.ops import THRESHOLD, evaluate
    from memcli.eval.ops_data import load
    from memcli.eval.ops_judge import Judge
    from memcli.eval.ops_report import print_details, print_tables, write_csv, write_json, write_svg
    from memcli.model.factory import build_chat_model
    from memcli.chat import llm_allowed
    from memcli.strategy.registry import StrategyRegistry

    settings = settings_for(data_dir)
    registry = StrategyRegistry()
    specs = strategy_specs(registry, strategy)
    conversations = load(paths)
    model = build_chat_model(settings)
    use_judge = judge is JudgeMode.on or (judge is JudgeMode.auto and llm_allowed(model, "auto", settings.data_dir))
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("loading the embedder…", total=None)
        results = evaluate(conversations, specs, settings, embedder=SentenceTransformerEmbedder(settings.embedder),
                           k=k, threshold=THRESHOLD if threshold is None else threshold, registry=registry,
                           model=model if llm_allowed(model, settings.llm_memory, settings.data_dir) else None,
                           judge=Judge(model) if use_judge else None,
                           progress=lambda label, done, total: progress.update(task, description=label,
                                                                               completed=done, total=total))
    print_tables(results)
    if details:
        print_details(results)
    if json_out:
        write_json(results, json_out, details)
    if csv_out:
        write_csv(results, csv_out)
    if chart:
        write_svg(results, chart)
    if json_out or csv_out or chart:
        print_json({"written": [str(p) for p in (json_out, csv_out, chart) if p]})
