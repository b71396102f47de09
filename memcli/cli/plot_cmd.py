"""`memcli memories plot …`: memorybank's retention curves and the memory count per status, in the
terminal or as SVG (the data: memcli.core.curves, from the event log)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memcli.cli.options import DataDir, Json, known_namespace, print_json, settings_for

app = typer.Typer(help="Plots of a namespace's history: in the terminal, or as SVG with -o.", no_args_is_help=True)
Strategy = Annotated[str | None, typer.Option("--strategy", "-S", help="Namespace (default: the configured strategy).")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write an SVG here instead of drawing in the "
                                             "terminal.", show_default=False)]


def _store(data_dir: Path | None):
    from memcli.core.store.log import EventStore

    settings = settings_for(data_dir)
    return settings, EventStore(settings.data_dir, read_only=True)


def _svg_path(output: Path) -> Path:
    if output.suffix.lower() != ".svg":
        raise typer.BadParameter(f"{output}: the plot is written as SVG, give a file ending in .svg",
                                 param_hint="--output")
    if not output.parent.is_dir():
        raise typer.BadParameter(f"no folder {output.parent} to write {output.name} in", param_hint="--output")
    return output


@app.command("retention")
def retention(
    strategy: Strategy = None,
    output: Output = None,
    top: Annotated[int, typer.Option("--top", min=1, max=12, help="How many memories (the strongest).")] = 5,
    memory: Annotated[list[str] | None, typer.Option("--memory", "-m", help="Plot these memory ids instead "
                                                     "(repeatable).")] = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """memorybank's retention R = exp(-Δt/S) of its top memories over time: each recall resets Δt
    and adds 1 to S; below the threshold (dashed) a memory is archived."""
    from memcli.core.curves import retention_curves
    from memcli.errors import MemcliError
    from memcli.plots import NotRetention, draw_retention, memorybank_params, retention_svg, terminal
    from memcli.strategy.registry import StrategyRegistry

    if output is not None:
        _svg_path(output)
    settings, store = _store(data_dir)
    try:
        ns = known_namespace(store, strategy or settings.strategy)
        try:
            params = memorybank_params(store, ns, StrategyRegistry())
            curves = retention_curves(store, ns, unit_hours=float(params["unit_hours"]), top=top, ids=memory)
        except (NotRetention, KeyError) as exc:
            raise MemcliError(str(exc).strip("'\"")) from None
    finally:
        store.close()
    threshold = float(params["threshold"])
    if json_out:
        print_json({"namespace": ns, "unit_hours": params["unit_hours"], "threshold": threshold,
                    "curves": [c.as_dict() for c in curves]})
    elif not curves:
        raise MemcliError(f"{ns} has no memories yet: nothing to plot")
    elif output is not None:
        retention_svg(curves, output, threshold)
        typer.echo(f"wrote {output} ({len(curves)} memories)")
    else:
        typer.echo(terminal(draw_retention, curves, threshold))


@app.command("status")
def status(strategy: Strategy = None, output: Output = None, data_dir: DataDir = None, json_out: Json = False) -> None:
    """How many memories were active, archived, forgotten or quarantined after each user turn."""
    from memcli.core.curves import status_counts
    from memcli.errors import MemcliError
    from memcli.plots import draw_status, status_svg, terminal

    if output is not None:
        _svg_path(output)
    settings, store = _store(data_dir)
    try:
        ns = known_namespace(store, strategy or settings.strategy)
        rows = status_counts(store, ns)
    finally:
        store.close()
    if json_out:
        print_json({"namespace": ns, "turns": rows})
    elif not rows:
        raise MemcliError("the conversation has no turns yet: nothing to plot")
    elif output is not None:
        status_svg(rows, output, ns)
        typer.echo(f"wrote {output} ({len(rows)} turns)")
    else:
        typer.echo(terminal(draw_status, rows))
