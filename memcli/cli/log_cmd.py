"""`memcli log`: the event log, filtered, as of an earlier event, or queried with SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from memcli.cli.options import DataDir, Json, known_namespace, print_json, settings_for
from memcli.cli.render import add_row, escape


def _since(value: str | None, store) -> int:
    """`--since` takes an event number or an ISO date/time."""
    if value is None:
        return 0
    if value.isdigit():
        return int(value)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"--since wants an event number or an ISO date, got {value!r}") from None
    if when.tzinfo is None:
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return store.last_seq_before(when)


def _kinds(prefixes: list[str]) -> list[str]:
    """The kinds `--kind` names: each exactly or by a prefix such as 'memory.'."""
    from memcli.core.events import Kind

    return [k.value for k in Kind if any(k.value == p or k.value.startswith(p) for p in prefixes)]


def log(
    kind: Annotated[list[str] | None, typer.Option("--kind", "-k", help="Only these kinds (repeatable; "
                                                   "a prefix such as 'memory.' works).")] = None,
    since: Annotated[str | None, typer.Option(help="After this event number or ISO time.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Show the memories as they were after a point: an "
                                              "event number, 'turn N', an ISO date or '2 days ago' (keyed on "
                                              "the turn, so backfilled strategies work too).")] = None,
    sql: Annotated[str | None, typer.Option("--sql", help="Run a read-only SQL query (tables: events, memories, "
                                            "memory_versions).")] = None,
    namespace: Annotated[str | None, typer.Option("--strategy", "-S", help="Only this namespace.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many (the latest).")] = 200,
    data_dir: DataDir = None,
    json_out: Json = False,
) -> None:
    """The event log: every message, retrieval, context and memory operation, in order."""
    from memcli.core.store.log import EventStore

    store = EventStore(settings_for(data_dir).data_dir, read_only=True)
    try:
        if namespace is not None:
            known_namespace(store, namespace)
        if sql is not None:
            cols, rows = store.query(sql)
            if json_out:
                print_json([dict(zip(cols, r)) for r in rows])
            else:
                table = Table(*(escape(c) for c in cols))
                for r in rows[:limit]:
                    add_row(table, *r)
                Console().print(table)
            return
        if as_of is not None:
            from memcli.clock import SystemClock
            from memcli.core.asof import resolve, state_as_of

            point = resolve(store, as_of, SystemClock().now())
            state = state_as_of(store, point, namespace)
            mems = sorted(state.memories.values(), key=lambda m: (m.namespace, m.created_seq))
            rows = [{"namespace": m.namespace, "id": m.id, "status": m.status, "text": m.text} for m in mems]
            if json_out:
                print_json(rows)
            else:
                table = Table("namespace", "id", "status", "text", title=f"memories as of {point.label}")
                for r in rows:
                    add_row(table, r["namespace"], r["id"], r["status"], r["text"])
                Console().print(table)
            return
        kinds = _kinds(kind) if kind else None
        events = [] if kinds == [] else store.events(since=_since(since, store), namespace=namespace, kinds=kinds,
                                                     newest=limit)
    finally:
        store.close()
    if json_out:
        print_json([{"seq": e.seq, "ts": e.ts.isoformat(), "session": e.session_id, "kind": e.kind.value,
                     "actor": e.actor, "namespace": e.namespace, "memory_id": e.memory_id, "payload": e.payload}
                    for e in events])
        return
    table = Table("seq", "time", "kind", "actor", "ns", "memory", "detail", title="event log")
    for e in events:
        p = e.payload
        detail = p.get("text") or p.get("query") or p.get("reason") or p.get("error") or ""
        add_row(table, e.seq, e.ts.isoformat()[:19], e.kind.value, e.actor, e.namespace or "", e.memory_id or "",
                str(detail)[:120])
    Console().print(table)
