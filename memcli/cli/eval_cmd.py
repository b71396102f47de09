"""`memcli eval locomo FILE`: evidence recall@k per strategy on a LoCoMo-shaped file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memcli.cli.eval_ops import ops, strategy_specs
from memcli.cli.options import DataDir, print_json, settings_for
from memcli.errors import MemcliError

# What `-S all` runs besides every strategy's defaults: the three LoCoMo raw-turn reference baselines
# (dense, classic BM25, their RRF) and memorybank with nothing forgotten (threshold 0: the recall
# its archived memories would give if they were still searchable, next to the recall of its active ones).
ALL_VARIANTS = ("rag-turns:mode=vector", "rag-turns:mode=keyword;analyzer=plain", "rag-turns:analyzer=plain",
                "memorybank:threshold=0")

app = typer.Typer(help="Score strategies on public benchmarks.", no_args_is_help=True)
app.command("ops")(ops)


@app.command("locomo")
def locomo(
    file: Annotated[Path, typer.Argument(help="A file in the standard locomo10.json shape.", exists=True,
                                         dir_okay=False)],
    strategy: Annotated[str, typer.Option("--strategy", "-S", help="Comma-separated strategies, or all (every "
                                          "strategy, the raw-turn baselines, memorybank without forgetting). A variant "
                                          "sets parameters: rag-turns:mode=vector (several: a=1;b=2).")] = "rag-turns",
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "5,10,20",
    limit_convs: Annotated[int | None, typer.Option("--limit-convs", min=1, help="Only the first N conversations.")]
    = None,
    convs: Annotated[str | None, typer.Option("--convs", help="Only these conversations, by sample id "
                                              "(comma-separated: conv-26,conv-30).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write per-category rows as CSV here.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write an SVG chart of recall here.")] = None,
    plot: Annotated[bool, typer.Option("--plot", help="Also draw the recall chart in the terminal.")] = False,
    details: Annotated[bool, typer.Option("--details", help="Include every question in the JSON.")] = False,
    qa: Annotated[bool, typer.Option("--qa", help="Also answer each question with the configured model from the "
                                     "memories retrieved at the middle k; report token F1 (LoCoMo's metric).")]
    = False,
    workers: Annotated[int | None, typer.Option("--workers", "-j", min=1, help="Parallel processes, one unit "
                                                "(conversation × strategy) each. Default: the number of cores.")]
    = None,
    ray_address: Annotated[str | None, typer.Option("--ray", metavar="ADDRESS", help="Run the units as tasks on the Ray "
                                            "cluster at ADDRESS (host:port of a head started with `ray start "
                                            "--head`, or auto). Needs memcli[ray] on every node.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Ingest each conversation with its dates, then measure evidence recall@k per strategy and category."""
    from memcli.embed.factory import build_embedder
    from memcli.eval.locomo import evaluate
    from memcli.eval.parallel import Job, evaluate_parallel, threads_per_worker
    from memcli.eval.report import print_table, write_csv, write_json, write_svg
    from memcli.model.factory import build_chat_model
    from memcli.replay.importers import read_locomo
    from memcli.strategy.registry import StrategyRegistry

    if ray_address is not None and workers is not None:
        raise MemcliError("--ray and --workers: choose one (on a Ray cluster, Ray places the units)")
    if ray_address is not None:
        from memcli.eval.ray_fanout import preflight

        preflight(ray_address)
    settings = settings_for(data_dir)
    ks = sorted({int(x) for x in k.split(",") if x.strip()})
    registry = StrategyRegistry()
    specs = strategy_specs(registry, strategy, ALL_VARIANTS)
    conversations = _select(read_locomo(file), convs)[:limit_convs]
    workers = workers or os.cpu_count() or 1
    embedder = build_embedder(settings)
    model = build_chat_model(settings)
    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("loading the embedder and the tokenizer…", total=None)

        def step(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done, total=total)

        if ray_address is not None:
            from memcli.eval.ray_fanout import evaluate_ray

            embedder.load()  # the export on this machine happens once, before any local Ray worker needs it
            results = evaluate_ray(conversations, specs, Job(settings, tuple(ks), qa=qa), address=ray_address,
                                   progress=step)
        elif workers == 1 or len(conversations) * len(specs) == 1:  # one unit: no process to spawn
            results = evaluate(conversations, specs, settings, ks=ks, embedder=embedder,
                               count_tokens=model.count_tokens, registry=registry, progress=step,
                               qa_model=model if qa else None)
        else:
            embedder.load()  # the ONNX export, if one is due, happens once here rather than in every worker
            job = Job(settings, tuple(ks), qa=qa, threads=threads_per_worker(workers))
            results = evaluate_parallel(conversations, specs, job, workers=workers, progress=step)
    seconds = time.perf_counter() - started
    print_table(results, ks)
    if plot:
        from memcli.plots import draw_recall, terminal

        names = list(results)
        recall = {n: [0.0 if v != v else v for v in (results[n].recall(k) for k in ks)] for n in names}  # NaN: none
        typer.echo(terminal(draw_recall, names, ks, recall, height=20))
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


def _select(conversations: list, ids: str | None) -> list:
    """The conversations named in `ids` (in the file's order); an unknown id is a user error."""
    if ids is None:
        return conversations
    wanted = {i.strip() for i in ids.split(",") if i.strip()}
    unknown = sorted(wanted - {c.id for c in conversations})
    if unknown:
        raise MemcliError(f"--convs: no conversation {', '.join(unknown)} in the file "
                          f"(it has: {', '.join(c.id for c in conversations)})")
    return [c for c in conversations if c.id in wanted]
