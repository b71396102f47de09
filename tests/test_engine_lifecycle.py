"""Opening and closing the engine's index is explicit: reading a property, making a view or
activating a strategy opens and syncs nothing; `open()` opens once, also when workers race;
`close()` stops the index's thread and closes its cache."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from memcli.core import operations as ops
from memcli.core.events import Kind, NewEvent
from memcli.engine import Engine
from memcli.index import vector_index
from strategy_helpers import chat, close


def test_reading_the_index_property_opens_nothing(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="I live in Lisbon")])
        with pytest.raises(RuntimeError, match="open"):
            _ = engine.index
        assert not (settings.data_dir / "index").exists()
        opened = engine.open()
        assert engine.index is opened is engine.open()
        assert (settings.data_dir / "index").is_dir()


def test_open_reconciles_a_lagging_index(settings, embedder) -> None:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="the first memory")], sync_index=True)
        # written behind the engine's back (as a crash between log and index would leave it)
        engine.store.append([NewEvent(Kind.MEMORY_ADDED, {"text": "a blue bicycle"}, namespace="ns", memory_id="m2")])
        behind = engine.index.watermark("ns")
    assert behind < engine.store.last_seq
    with Engine(settings, embedder=embedder) as engine:
        index = engine.open()
        assert index.watermark("ns") == engine.store.last_seq
        assert index.count("ns") == 2


def test_racing_workers_open_one_index(settings, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = vector_index.VectorIndex.__init__

    def slow_init(self, *args, **kwargs) -> None:
        made.append(self)
        time.sleep(0.05)  # widens the window in which an unlocked open would build a second index
        real(self, *args, **kwargs)

    monkeypatch.setattr(vector_index.VectorIndex, "__init__", slow_init)
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text="I live in Lisbon")])
        start = threading.Barrier(8)
        got: list[object] = []

        def worker() -> None:
            start.wait()
            got.append(engine.open())

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(made) == 1 and len(got) == 8 and all(i is made[0] for i in got)
        assert engine.index.count("ns") == 1


def test_close_stops_the_index_thread_and_closes_the_cache(settings, embedder) -> None:
    engine = Engine(settings, embedder=embedder)
    engine.apply("ns", [ops.Add(text="I live in Lisbon"), ops.Add(text="I like tea")])
    assert engine.search("ns", "where do I live", mode="hybrid")  # the keyword half runs on the pool's thread
    index = engine.index
    threads = list(index._pool._threads)
    assert threads and index.cache._con is not None
    engine.close()
    assert index._pool._shutdown and not any(t.is_alive() for t in threads)
    assert index.cache._con is None
    with pytest.raises(RuntimeError):
        index._pool.submit(print)


def test_views_have_no_effect_and_activation_configures(settings, embedder) -> None:
    s = chat(settings, embedder, "rag-turns", {"analyzer": "plain"})
    try:
        engine = s.engine
        assert not (settings.data_dir / "index").exists()  # activating told the engine; nothing opened yet
        view = s.view()
        view.memories()
        assert not (settings.data_dir / "index").exists()
        s.ingest("user", "My sister Zoe lives in Porto")
        index = engine.open()
        state = json.loads((settings.data_dir / "index" / "state.json").read_text())
        assert state["rag-turns"]["analyzer"] == "plain"
        s.ingest("user", "I play the cello")
        before = index.watermark("rag-turns")
        s.view()  # handing out a view syncs nothing
        assert index.watermark("rag-turns") == before < engine.store.last_seq
        assert [h.text for h in s.view().search("cello", k=1, mode="keyword")] == ["User: I play the cello"]
        assert index.watermark("rag-turns") == engine.store.last_seq  # the engine synced before searching
        s.switch("rag-turns", {"analyzer": "english"})  # same namespace: configured once, when first activated
        assert json.loads((settings.data_dir / "index" / "state.json").read_text())["rag-turns"]["analyzer"] == "plain"
    finally:
        close(s)


def test_switching_configures_the_new_namespace(settings, embedder, tmp_path: Path) -> None:
    s = chat(settings, embedder, "longmemeval")
    try:
        s.engine.open()
        s.switch("rag-turns", {"analyzer": "plain"})  # the index is open: applied at once
        state = json.loads((settings.data_dir / "index" / "state.json").read_text())
        assert state["rag-turns"]["analyzer"] == "plain"
    finally:
        close(s)
