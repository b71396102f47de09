"""`memcli memories …`: list, search, show, edit, pin, forget, restore, history."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated, Iterator

import typer
from rich.console import Console
from rich.table import Table

from memcli.cli import plot_cmd
from memcli.cli.options import DataDir, Json, known_namespace, print_json, require_data, settings_for
from memcli.cli.render import add_row, escape
from memcli.core import operations as ops
from memcli.core.projection import Memory

app = typer.Typer(help="Look at and steer one strategy's memories.", no_args_is_help=True)
Strategy = Annotated[str | None, typer.Option("--strategy", "-S", help="Namespace (default: the configured strategy).")]
MemoryId = Annotated[str, typer.Argument(help="Memory id, e.g. m12.")]
app.add_typer(plot_cmd.app, name="plot")


@contextmanager
def _engine(data_dir, write: bool) -> Iterator:
    from memcli.engine import Engine

    settings = settings_for(data_dir)
    if write:
        require_data(settings.data_dir)
    engine = Engine(settings, read_only=not write)
    try:
        yield engine
    finally:
        engine.close()


STATUSES = ("active", "archived", "deleted", "quarantined")


def _ns(engine, strategy: str | None) -> str:
    return known_namespace(engine.store, strategy or engine.settings.strategy)


def _row(m: Memory) -> dict:
    return {"id": m.id, "text": m.text, "kind": m.kind, "status": m.status, "strength": m.strength,
            "importance": m.importance, "pinned": m.pinned, "version": m.version, "access_count": m.access_count,
            "last_access": m.last_access.isoformat(), "valid_from": m.valid_from.isoformat(),
            "valid_to": m.valid_to.isoformat() if m.valid_to else None, "sources": m.sources, "metadata": m.metadata}


def _table(memories: list[Memory], title: str) -> None:
    table = Table(title=title)
    for col in ("id", "status", "kind", "S", "used", "text"):
        table.add_column(col, overflow="fold")
    for m in memories:
        add_row(table, m.id + (" 📌" if m.pinned else ""), m.status, m.kind, f"{m.strength:g}", m.access_count, m.text)
    Console().print(table)


@app.command("list")
def list_(
    strategy: Strategy = None,
    status: Annotated[str, typer.Option(help="active, archived, deleted, quarantined or all.")] = "active",
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """The memories of a namespace."""
    if status not in (*STATUSES, "all"):
        raise typer.BadParameter(f"--status is one of {', '.join(STATUSES)} or all, not {status!r}")
    with _engine(data_dir, write=False) as engine:
        ns = _ns(engine, strategy)
        mems = engine.store.memories(ns, None if status == "all" else [status])
    if json_out:
        print_json([_row(m) for m in mems])
    else:
        _table(mems, f"{ns}: {len(mems)} {status} memories")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument()],
    strategy: Strategy = None,
    k: Annotated[int, typer.Option("-k", min=1, max=200)] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, vector or keyword.")] = "hybrid",
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Search a namespace (hybrid: vector + keyword fused by reciprocal rank)."""
    with _engine(data_dir, write=False) as engine:
        hits = engine.search(_ns(engine, strategy), query, k=k, mode=mode)
    if json_out:
        print_json([{"id": h.id, "text": h.text, "score": h.score, "parts": h.parts} for h in hits])
        return
    table = Table(title=f"{mode} search: {escape(query)}")
    for col in ("id", "score", "parts", "text"):
        table.add_column(col, overflow="fold")
    for h in hits:
        add_row(table, h.id, f"{h.score:.4f}", " ".join(f"{k}={v:.3f}" for k, v in h.parts.items()), h.text)
    Console().print(table)


@app.command("show")
def show(memory_id: MemoryId, strategy: Strategy = None, data_dir: DataDir = None, json_out: Json = False) -> None:
    """One memory: its fields, every version with its validity, and the turns it came from."""
    with _engine(data_dir, write=False) as engine:
        ns = _ns(engine, strategy)
        m = engine.store.memory(ns, memory_id)
        if m is None:
            raise typer.BadParameter(f"no memory {memory_id} in {ns}")
        versions = engine.store.versions(ns, memory_id)
        sources = engine.store.source_turns(m.sources)
    out = {**_row(m), "versions": [{"version": v.version, "text": v.text, "valid_from": v.valid_from.isoformat(),
                                     "valid_to": v.valid_to.isoformat() if v.valid_to else None} for v in versions],
           "source_turns": [{"seq": e.seq, "ts": e.ts.isoformat(), "text": e.payload.get("text", "")}
                            for e in sources]}
    if json_out:
        print_json(out)
        return
    console = Console()
    console.print(f"[bold]{escape(m.id)}[/] ({escape(ns)}, {m.status}, {m.kind}, strength {m.strength:g}, "
                  f"used {m.access_count}×){' 📌' if m.pinned else ''}\n{escape(m.text)}")
    for v in out["versions"]:
        console.print(f"  v{v['version']} {v['valid_from']} → {v['valid_to'] or 'now'}: {escape(v['text'])}")
    for t in out["source_turns"]:
        console.print(f"  [dim]from #{t['seq']} ({t['ts']}): {escape(t['text'])}[/]")


@app.command("history")
def history(memory_id: MemoryId, strategy: Strategy = None, data_dir: DataDir = None, json_out: Json = False) -> None:
    """Every event that touched a memory."""
    with _engine(data_dir, write=False) as engine:
        ns = _ns(engine, strategy)
        events = engine.store.memory_history(ns, memory_id)
    rows = [{"seq": e.seq, "ts": e.ts.isoformat(), "kind": e.kind.value, "actor": e.actor,
             "payload": e.payload} for e in events]
    if json_out:
        print_json(rows)
        return
    table = Table(title=escape(f"history of {memory_id} ({ns})"))
    for col in ("seq", "time", "kind", "actor", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        p = r["payload"]
        detail = p.get("text") or p.get("reason") or p.get("query") or ""
        add_row(table, r["seq"], r["ts"][:19], r["kind"], r["actor"], detail)
    Console().print(table)


def _apply(data_dir, strategy, op, json_out: bool) -> None:
    with _engine(data_dir, write=True) as engine:
        ns = _ns(engine, strategy)
        events = engine.apply(ns, [op], actor="editor")
        m = engine.store.memory(ns, op.memory_id)
    if json_out:
        print_json({"events": [e.seq for e in events], "memory": _row(m) if m else None})
    else:
        typer.echo(f"{op.memory_id}: {', '.join(e.kind.value for e in events)} (event #{events[-1].seq})")


@app.command("edit")
def edit(memory_id: MemoryId, text: Annotated[str, typer.Argument(help="The new text.")], strategy: Strategy = None,
         data_dir: DataDir = None, json_out: Json = False) -> None:
    """Replace a memory's text (the old version is kept in its history)."""
    _apply(data_dir, strategy, ops.Edit(memory_id=memory_id, text=text, reason="edited by the user"), json_out)


@app.command("pin")
def pin(memory_id: MemoryId, off: Annotated[bool, typer.Option("--off", help="Unpin.")] = False,
        strategy: Strategy = None, data_dir: DataDir = None, json_out: Json = False) -> None:
    """Pin a memory (strategies never forget a pinned memory), or unpin it."""
    _apply(data_dir, strategy, ops.Pin(memory_id=memory_id, pinned=not off, reason="by the user"), json_out)


@app.command("forget")
def forget(
    memory_id: MemoryId,
    hard: Annotated[bool, typer.Option("--hard", help="Erase its text (and the turns it came from) from the log "
                                       "and the index for good; a tombstone event remains.")] = False,
    strategy: Strategy = None,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Mark a memory deleted (it can be restored), or with --hard erase it for good."""
    _apply(data_dir, strategy, ops.Delete(memory_id=memory_id, hard=hard, reason="forgotten by the user"), json_out)


@app.command("restore")
def restore(memory_id: MemoryId, strategy: Strategy = None, data_dir: DataDir = None, json_out: Json = False) -> None:
    """Bring an archived, deleted or quarantined memory back."""
    _apply(data_dir, strategy, ops.Restore(memory_id=memory_id, reason="restored by the user"), json_out)


@app.command("diff")
def diff(
    strategies: Annotated[list[str], typer.Option("--strategy", "-S", help="The two namespaces to compare "
                                                  "(give -S twice).")],
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """Two strategies' memories of the same conversation, side by side by source turn."""
    from rich.text import Text

    from memcli.core.compare import diff as compare

    if len(strategies) != 2:
        raise typer.BadParameter("give exactly two strategies: -S A -S B", param_hint="--strategy")
    a, b = strategies
    with _engine(data_dir, write=False) as engine:
        rows = compare(engine.store, a, b)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{a} vs {b}: memories by source turn", expand=True)
    for col in ("turn", "keeps", a, b):
        table.add_column(col, overflow="fold")
    side = lambda ms: Text("\n".join(f"{m['id']} [{m['status']}] {m['text']}" for m in ms) or "—")  # noqa: E731
    for r in rows:
        keeps = {"only A": f"only {a}", "only B": f"only {b}"}.get(r["verdict"], r["verdict"])
        table.add_row(str(r["turn"]), keeps, side(r[a]), side(r[b]))
    Console().print(table)
