"""The projection folded incrementally equals the one rebuilt from the log."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from memcli.clock import SimulatedClock
from memcli.core import operations as ops
from memcli.core.events import Kind, NewEvent
from memcli.core.planning import InvalidOperation
from memcli.engine import Engine
from memcli.settings import load_settings

WORDS = st.text(alphabet="abcdefgh é✓", min_size=1, max_size=12).filter(lambda s: s.strip())
IDS = st.integers(min_value=1, max_value=6).map(lambda n: f"m{n}")

OP = st.one_of(
    st.builds(ops.Add, text=WORDS, importance=st.floats(0, 1), strength=st.floats(0.1, 5)),
    st.builds(ops.Update, memory_id=IDS, text=WORDS, sources=st.lists(st.integers(1, 50), max_size=3).map(tuple)),
    st.builds(ops.Edit, memory_id=IDS, text=WORDS),
    st.builds(ops.Merge, target_id=IDS, source_ids=st.lists(IDS, max_size=2).map(tuple), text=WORDS),
    st.builds(ops.Archive, memory_id=IDS),
    st.builds(ops.Restore, memory_id=IDS),
    st.builds(ops.Delete, memory_id=IDS),
    st.builds(ops.Decay, memory_id=IDS, strength=st.floats(0, 1)),
    st.builds(ops.Reinforce, memory_id=IDS, strength=st.floats(1, 9)),
    st.builds(ops.Pin, memory_id=IDS, pinned=st.booleans()),
    st.builds(ops.Quarantine, memory_id=IDS),
    st.builds(ops.Noop, reason=WORDS),
    IDS.map(lambda i: ("retrieve", i)),
    st.sampled_from(["1h", "2d"]).map(lambda d: ("advance", d)),
)
STEPS = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.lists(OP, min_size=1, max_size=3)), max_size=25)


def _run(steps, data_dir: Path) -> Engine:
    clock = SimulatedClock()
    engine = Engine(load_settings(data_dir=data_dir), clock=clock)
    for ns, batch in steps:
        real = [o for o in batch if not isinstance(o, tuple)]
        extra = []
        for o in batch:
            if isinstance(o, tuple) and o[0] == "advance":
                clock.advance(o[1])
            elif isinstance(o, tuple):
                extra.append(NewEvent(Kind.MEMORY_RETRIEVED, {"query": "q", "hits": [{"id": o[1], "score": 1.0}]},
                                      namespace=ns))
        try:
            engine.apply(ns, real, extra=extra, sync_index=False)
        except InvalidOperation:
            pass
    return engine


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_rebuild_equals_incremental(steps) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = _run(steps, Path(tmp))
        try:
            incremental = engine.store.projection()
            assert engine.store.state_as_of(engine.store.last_seq) == incremental
            engine.store.rebuild()
            assert engine.store.projection() == incremental
        finally:
            engine.close()


def test_rejected_batch_writes_nothing(settings) -> None:
    with Engine(settings) as engine:
        engine.apply("ns", [ops.Add(text="keep me")], sync_index=False)
        before = engine.store.last_seq
        try:
            engine.apply("ns", [ops.Add(text="new"), ops.Update(memory_id="m99", text="invented id")],
                         sync_index=False)
        except InvalidOperation as exc:
            assert "m99" in str(exc)
        else:
            raise AssertionError("an invented id must be rejected")
        assert engine.store.last_seq == before
        assert [m.text for m in engine.store.memories("ns")] == ["keep me"]


def test_state_as_of_and_versions(settings, clock) -> None:
    with Engine(settings, clock=clock) as engine:
        engine.apply("ns", [ops.Add(text="I live in Lisbon")], sync_index=False)
        lisbon_seq = engine.store.last_seq
        clock.advance("3d")
        engine.apply("ns", [ops.Update(memory_id="m1", text="I live in Porto", reason="moved")], sync_index=False)
        clock.advance("1d")
        engine.apply("ns", [ops.Archive(memory_id="m1")], sync_index=False)

        then = engine.store.state_as_of(lisbon_seq).memories[("ns", "m1")]
        assert then.text == "I live in Lisbon" and then.status == "active"
        now = engine.store.memory("ns", "m1")
        assert now.text == "I live in Porto" and now.status == "archived" and now.version == 2
        versions = engine.store.versions("ns", "m1")
        assert [v.text for v in versions] == ["I live in Lisbon", "I live in Porto"]
        # the superseded fact is closed, not lost; the archived one is closed when archived
        assert versions[0].valid_to == versions[1].valid_from
        assert versions[1].valid_to == now.valid_to is not None
        history = engine.store.events(namespace="ns", memory_id="m1")
        assert [e.kind for e in history] == [Kind.MEMORY_ADDED, Kind.MEMORY_UPDATED, Kind.MEMORY_ARCHIVED]
        assert history[1].payload["previous_text"] == "I live in Lisbon"


def test_namespaces_are_separate(settings) -> None:
    with Engine(settings) as engine:
        engine.apply("a", [ops.Add(text="only in a")], sync_index=False)
        engine.apply("b", [ops.Add(text="only in b")], sync_index=False)
        engine.apply("b", [ops.Delete(memory_id="m1")], sync_index=False)
        assert engine.store.memory("a", "m1").status == "active"
        assert engine.store.memory("b", "m1").status == "deleted"


def test_migrations_recorded_once(settings) -> None:
    import duckdb

    Engine(settings).close()
    Engine(settings).close()
    con = duckdb.connect(str(settings.data_dir / "memcli.duckdb"), read_only=True)
    versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    con.close()
    assert versions == [1, 2, 3, 4]
