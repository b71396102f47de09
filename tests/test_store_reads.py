"""The store's SQL reads (memory history, source turns, filtered events) give what the old Python
scans of the whole log gave, on a log with edits, merges, retrievals and a hard erase.

The `_old_*` functions are the code these reads replace (CLI `memories history/show`, the TUI's
memory screen, `memcli log --since/--kind`), kept here as the oracle.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.clock import SimulatedClock
from memcli.core import operations as ops
from memcli.core.events import Kind, NewEvent
from memcli.engine import Engine
from memcli.settings import load_settings

MESSAGES = [Kind.MESSAGE_USER, Kind.MESSAGE_ASSISTANT]


def _old_history(store, ns: str, memory_id: str) -> list:
    return [e for e in store.events(namespace=ns)
            if e.memory_id == memory_id or any(h.get("id") == memory_id for h in e.payload.get("hits", []))]


def _old_sources(store, memory) -> list:
    wanted = set(memory.sources)
    return [e for e in store.events(kinds=MESSAGES) if e.seq in wanted]


def _old_since(value: str | None, store) -> int:
    if value is None:
        return 0
    if value.isdigit():
        return int(value)
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    earlier = [e.seq for e in store.events() if e.ts < when]
    return earlier[-1] if earlier else 0


def _old_log(store, since: str | None, kind: list[str] | None, namespace: str | None, limit: int) -> list:
    events = store.events(since=_old_since(since, store), namespace=namespace)
    if kind:
        events = [e for e in events if any(e.kind.value == k or e.kind.value.startswith(k) for k in kind)]
    return events[-limit:]


def _turn(engine: Engine, clock: SimulatedClock, text: str, reply: str) -> tuple[int, int]:
    clock.advance("1h")
    user = engine.record(Kind.MESSAGE_USER, {"text": text}, actor="user")
    assistant = engine.record(Kind.MESSAGE_ASSISTANT, {"text": reply}, actor="assistant")
    return user.seq, assistant.seq


def _retrieve(engine: Engine, ns: str, *ids: str) -> None:
    engine.record(Kind.MEMORY_RETRIEVED, {"query": "q", "hits": [{"id": i, "score": 0.5} for i in ids]}, namespace=ns)


def _build(data_dir: Path, embedder) -> Engine:
    """Two namespaces sharing ids; edits, updates with sources, a merge, retrievals, pins, archives,
    a restore, a soft delete and a hard erase (which blanks texts and the turns they came from)."""
    clock = SimulatedClock()
    engine = Engine(load_settings(data_dir=data_dir), clock=clock, embedder=embedder)
    t1 = _turn(engine, clock, "My name is Ada", "Hello Ada")
    t2 = _turn(engine, clock, "I live in Lisbon", "Nice city")
    t3 = _turn(engine, clock, "My password hint is blue", "Noted")
    t4 = _turn(engine, clock, "I moved to Porto", "Good luck")
    for ns in ("a", "b"):
        engine.apply(ns, [ops.Add(text="name is Ada", sources=(t1[0],)),
                          ops.Add(text="lives in Lisbon", sources=(t2[0], t2[1])),
                          ops.Add(text="hint is blue", sources=(t3[0],))])
    engine.apply("a", [ops.Edit(memory_id="m1", text="name: Ada")])
    engine.apply("a", [ops.Update(memory_id="m2", text="lives in Porto", sources=(t4[0],))])
    _retrieve(engine, "a", "m1", "m2")
    _retrieve(engine, "b", "m2")
    engine.apply("a", [ops.Add(text="Ada, from Porto", sources=(t4[1],))])
    engine.apply("a", [ops.Merge(target_id="m4", source_ids=("m1", "m2"), text="Ada lives in Porto")])
    _retrieve(engine, "a", "m4", "m1")
    engine.apply("a", [ops.Pin(memory_id="m4", pinned=True), ops.Decay(memory_id="m3", strength=0.4)])
    engine.apply("b", [ops.Archive(memory_id="m1")])
    engine.apply("b", [ops.Restore(memory_id="m1"), ops.Delete(memory_id="m2")])
    engine.apply("b", [ops.Delete(memory_id="m3", hard=True)])  # erases turn 3 and a's m3 too
    engine.record(Kind.CONTEXT_BUILT, {"text": "ctx"}, namespace="a")
    return engine


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    data_dir = tmp_path_factory.mktemp("reads") / "data"
    _build(data_dir, embedder).close()
    return data_dir


KEYS = [(ns, f"m{i}") for ns in ("a", "b", "c") for i in range(1, 6)]


@pytest.mark.parametrize("read_only", [True, False])
def test_memory_history_matches_the_old_scan(logged: Path, embedder, read_only: bool) -> None:
    with Engine(load_settings(data_dir=logged), embedder=embedder, read_only=read_only) as engine:
        store = engine.store
        seen = 0
        for ns, mid in KEYS:
            old = _old_history(store, ns, mid)
            assert store.memory_history(ns, mid) == old, (ns, mid)
            seen += len(old)
        assert seen > 20  # the log really has histories (edits, merges, retrievals, the erase)
        kinds = {e.kind for e in store.memory_history("a", "m1")}
        assert {Kind.MEMORY_ADDED, Kind.MEMORY_EDITED, Kind.MEMORY_RETRIEVED, Kind.MEMORY_ARCHIVED} <= kinds


def test_source_turns_match_the_old_scan(logged: Path, embedder) -> None:
    with Engine(load_settings(data_dir=logged), embedder=embedder, read_only=True) as engine:
        store = engine.store
        found = 0
        for ns in ("a", "b"):
            for m in store.memories(ns):
                old = _old_sources(store, m)
                assert store.source_turns(m.sources) == old, (ns, m.id)
                found += len(old)
        assert found >= 8
        merged = store.memory("a", "m4")
        assert [e.payload["text"] for e in store.source_turns(merged.sources)] == \
            ["My name is Ada", "I live in Lisbon", "Nice city", "I moved to Porto", "Good luck"]
        erased = store.memory("b", "m3")
        assert [e.payload["text"] for e in store.source_turns(erased.sources)] != ["My password hint is blue"]


def test_events_by_seqs_kinds_and_since(logged: Path, embedder) -> None:
    with Engine(load_settings(data_dir=logged), embedder=embedder, read_only=True) as engine:
        store = engine.store
        every = store.events()
        seqs = [e.seq for e in every][::3] + [10_000]
        assert store.events(seqs=seqs) == [e for e in every if e.seq in set(seqs)]
        assert store.events(seqs=[]) == []
        assert store.events(seqs=seqs, kinds=MESSAGES, since=4) == \
            [e for e in every if e.seq in set(seqs) and e.kind in MESSAGES and e.seq > 4]
        middle = every[len(every) // 2].ts
        assert store.last_seq_before(middle) == _old_since(middle.isoformat(), store)
        assert store.last_seq_before(every[0].ts) == 0
        assert store.last_seq_before(every[-1].ts + timedelta(days=1)) == every[-1].seq


@pytest.mark.parametrize("args", [
    [], ["--kind", "memory."], ["--kind", "memory.added", "--kind", "message."], ["--kind", "nothing"],
    ["--since", "7"], ["--since", "7", "--kind", "memory.retrieved"], ["--limit", "3", "--kind", "memory."],
    ["-S", "b", "--kind", "memory."], ["--since", "2026-01-01T05:30:00"], ["--since", "2026-01-01T02:00:00+00:00"],
])
def test_log_filters_match_the_old_python_filter(logged: Path, embedder, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["log", "--json", "--data-dir", str(logged), *args])
    assert result.exit_code == 0, result.output
    got = [row["seq"] for row in json.loads(result.stdout)]
    opts = {"--kind": [], "--since": None, "--limit": 200, "-S": None}
    for flag, value in zip(args[::2], args[1::2]):
        opts[flag] = opts[flag] + [value] if flag == "--kind" else (int(value) if flag == "--limit" else value)
    with Engine(load_settings(data_dir=logged), embedder=embedder, read_only=True) as engine:
        want = [e.seq for e in _old_log(engine.store, opts["--since"], opts["--kind"], opts["-S"], opts["--limit"])]
    assert got == want


def test_memories_history_and_show_commands_match(logged: Path, embedder) -> None:
    with Engine(load_settings(data_dir=logged), embedder=embedder, read_only=True) as engine:
        old_history = [e.seq for e in _old_history(engine.store, "a", "m1")]
        old_sources = [e.seq for e in _old_sources(engine.store, engine.store.memory("a", "m4"))]
    history = CliRunner().invoke(app, ["memories", "history", "m1", "-S", "a", "--json", "--data-dir", str(logged)])
    assert [r["seq"] for r in json.loads(history.stdout)] == old_history
    show = CliRunner().invoke(app, ["memories", "show", "m4", "-S", "a", "--json", "--data-dir", str(logged)])
    assert [t["seq"] for t in json.loads(show.stdout)["source_turns"]] == old_sources


def test_reads_see_an_open_write_batch(tmp_path: Path, embedder) -> None:
    engine = _build(tmp_path / "data", embedder)
    try:
        with engine.batch():
            engine.apply("a", [ops.Edit(memory_id="m4", text="Ada lives in Porto now")])
            _retrieve(engine, "a", "m4")
            turn = engine.record(Kind.MESSAGE_USER, {"text": "still pending"}, actor="user")
            store = engine.store
            assert store.committed_seq < store.last_seq  # these are not in the file yet
            for ns, mid in KEYS:
                assert store.memory_history(ns, mid) == _old_history(store, ns, mid)
            assert store.memory_history("a", "m4")[-1].kind is Kind.MEMORY_RETRIEVED
            assert store.source_turns([1, turn.seq]) == [e for e in store.events(kinds=MESSAGES)
                                                        if e.seq in (1, turn.seq)]
            assert store.events(seqs=[turn.seq, 2]) == [store.events(until=2)[-1], turn]
            assert store.last_seq_before(turn.ts + timedelta(seconds=1)) == store.last_seq
    finally:
        engine.close()


def test_pending_events_without_hits_do_not_break_history(tmp_path: Path, embedder) -> None:
    with Engine(load_settings(data_dir=tmp_path / "d"), embedder=embedder) as engine:
        engine.apply("a", [ops.Add(text="x")])
        engine.store.append([NewEvent(Kind.MEMORY_RETRIEVED, {"query": "q", "hits": []}, namespace="a")])
        assert [e.kind for e in engine.store.memory_history("a", "m1")] == [Kind.MEMORY_ADDED]
