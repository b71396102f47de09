"""`memcli chat`: the Textual workbench, or a plain line-by-line chat with --plain."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from memcli.cli.ask import Cassette, ModelPath, Playback, Record, cassette_mode
from memcli.cli.options import DataDir, SetOpt, settings_for
from memcli.strategy.registry import parse_params

StrategyOpt = Annotated[str | None, typer.Option("--strategy", "-S", help="Memory strategy (default from settings).")]


def chat(
    strategy: StrategyOpt = None,
    set_: SetOpt = None,
    model: ModelPath = None,
    cassette: Cassette = None,
    record: Record = False,
    playback: Playback = False,
    watch: Annotated[Path | None, typer.Option("--watch", help="Watch a sample session (FILE) play in the TUI.",
                                               exists=True, dir_okay=False)] = None,
    plain: Annotated[bool, typer.Option("--plain", help="No TUI: read lines from stdin, print replies.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Chat with the local model and watch its memory work (the Textual workbench)."""
    settings = settings_for(data_dir, model=model)
    params = parse_params(set_ or [])
    mode = cassette_mode(record, playback)
    if plain or not sys.stdin.isatty():
        _plain_chat(settings, strategy, params, cassette, mode)
        return
    from memcli.tui.run import run_workbench

    run_workbench(settings, strategy=strategy, params=params, cassette=cassette, cassette_mode=mode, replay=watch)


def _plain_chat(settings, strategy, params, cassette, mode) -> None:
    from memcli.chat import open_chat
    from memcli.cli.render import escape
    from memcli.model.factory import build_chat_model, model_line

    console = Console(stderr=True)
    model = build_chat_model(settings, cassette=cassette, mode=mode)
    with open_chat(settings, strategy=strategy, params=params, model=model) as chat:
        console.print(f"[dim]memcli chat · strategy {escape(chat.namespace)} · {escape(str(settings.data_dir))} · "
                      f"an empty line or Ctrl-D ends[/]")
        console.print(f"[dim]{model_line(chat.model)}[/]", highlight=False)
        for line in sys.stdin:
            text = line.strip()
            if not text:
                break
            result = chat.send(text, k=settings.top_k, max_tokens=settings.max_tokens,
                               on_piece=lambda p: (sys.stdout.write(p), sys.stdout.flush()))
            sys.stdout.write("\n")
            hits = ", ".join(h.memory_id for h in result.retrieval.hits) or "none"
            stats = result.generation.stats if result.generation else None
            console.print(f"[dim]memories used: {hits}" + (
                f" · {stats.prompt_tokens}+{stats.completion_tokens} tokens · {stats.tokens_per_s:.0f} tok/s"
                if stats else "") + "[/]")
        chat.drain()
