"""`memcli convert` (LoCoMo / OpenAI chat → session files) and `memcli ingest` (straight into a data dir)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from memcli.cli.options import DataDir, Json, SetOpt, print_json, settings_for

Format = Annotated[str, typer.Option("--format", "-f", help="locomo (locomo10.json shape) or openai (chat messages).")]
Source = Annotated[Path, typer.Argument(help="The file to read.", exists=True, dir_okay=False)]


def _read(path: Path, fmt: str):
    from memcli.replay.importers import read_locomo, read_openai

    if fmt not in ("locomo", "openai"):
        raise typer.BadParameter("--format is locomo or openai")
    return read_locomo(path) if fmt == "locomo" else read_openai(path)


def file_name(title: str, n: int, taken: set[str]) -> str:
    """A safe file name for a conversation: a slug of its title, always inside the output folder.

    Titles come from the export (anyone's text): slashes, `..`, control characters and the like
    are never part of a path. Two titles with the same slug get -2, -3, … (hand-written: three
    lines did not justify a slug library).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore")
                  .decode().lower()).strip("-")[:80] or f"conversation-{n}"
    name, i = slug, 1
    while name in taken:
        i += 1
        name = f"{slug}-{i}"
    taken.add(name)
    return f"{name}.yaml"


def convert(
    source: Source,
    fmt: Format = "locomo",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the session files.")] = Path("."),
    strategy: Annotated[str | None, typer.Option("--strategy", "-S", help="Strategy named in the files.")] = None,
    json_out: Json = False,
) -> None:
    """Turn a conversation export into session files (one per conversation, dates kept)."""
    from memcli.replay.importers import to_session_yaml

    conversations = _read(source, fmt)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    taken: set[str] = set()
    for n, conv in enumerate(conversations, 1):
        path = out / file_name(conv.id, n, taken)
        path.write_text(to_session_yaml(conv, strategy), encoding="utf-8")
        written.append({"file": str(path), "turns": conv.turn_count})
    if json_out:
        print_json(written)
    else:
        for w in written:
            typer.echo(f"{w['file']}: {w['turns']} turns")


def ingest(
    source: Source,
    fmt: Format = "locomo",
    strategy: Annotated[str | None, typer.Option("--strategy", "-S", help="Strategy that processes the turns.")] = None,
    set_: SetOpt = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Log a conversation export into the data dir, with its dates, and let the strategy build memories."""
    from memcli.clock import SimulatedClock
    from memcli.strategy.registry import parse_params
    from memcli.chat import ingest_conversation, open_chat

    conversations = _read(source, fmt)
    total = sum(c.turn_count for c in conversations)
    clock = SimulatedClock(min(s.date for c in conversations for s in c.sessions) if total else None)
    with open_chat(settings_for(data_dir), strategy=strategy, params=parse_params(set_ or []), clock=clock,
                   background=False) as chat:
        with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), transient=json_out) as progress:
            task = progress.add_task("turns", total=total)
            with chat.engine.batch():
                for conv in conversations:
                    ingest_conversation(chat, conv, clock, metadata={"conversation": conv.id},
                                        progress=lambda _: progress.advance(task))
        memories = len(chat.engine.store.memories(chat.namespace))
    out = {"turns": total, "strategy": chat.namespace, "memories": memories}
    print_json(out) if json_out else typer.echo(f"ingested {total} turns; {chat.namespace}: {memories} memories")
