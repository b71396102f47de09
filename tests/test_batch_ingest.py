"""Batched ingest (`Engine.batch`: a few transactions instead of two per turn) writes exactly the
events, memories and memory versions that turn-by-turn ingest writes, for every strategy."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from memcli.clock import SimulatedClock
from memcli.core.store.files import DB_FILE
from memcli.core.store.log import EventStore
from memcli.settings import load_settings
from strategy_helpers import close, chat

# Two speakers over four days: facts, a change of city, repeats, questions answered by the next
# message, relative times, a secret the redactor removes, short acknowledgements.
CONVERSATION = [
    ("Ana", "Hi Ben! My name is Ana and I live in Lisbon."),
    ("Ben", "Hi Ana. What do you do for work?"),
    ("Ana", "I work as a nurse, and I am allergic to peanuts."),
    ("Ben", "Sounds fun!"),
    ("Ana", "Yesterday I adopted a grey cat called Pixel."),
    ("Ben", "I started a pottery class on Tuesdays."),
    ("Ana", "My password is hunter2-Secret-991, do not tell anyone."),
    ("Ben", "When is your sister visiting?"),
    ("Ana", "My sister Clara is visiting from Madrid next week."),
    ("Ben", "I made a blue vase in pottery class two days ago."),
    ("Ana", "I moved from Lisbon to Porto last month."),
    ("Ben", "Nice!"),
    ("Ana", "I live in Porto now and I love green tea."),
    ("Ben", "I love green tea too."),
    ("Ana", "I love green tea."),
    ("Ben", "Where did you go hiking last weekend?"),
    ("Ana", "We went hiking near Sintra with Clara."),
    ("Ben", "I finished the Lisbon marathon in four hours!"),
]
STRATEGIES = ["rag-turns", "longmemeval", "mem0", "memorybank", "hema", "tim", "guard", "sirllm", "rmm", "memgas",
              "full-context"]


def _ingest(data_dir: Path, embedder, strategy: str, batch_limit: int | None) -> None:
    clock = SimulatedClock(datetime(2024, 3, 3, 10, tzinfo=timezone.utc))
    s = chat(load_settings(data_dir=data_dir), embedder, strategy, clock=clock)
    s.engine.session_id = "fixed"

    def run() -> None:
        for i, (speaker, text) in enumerate(CONVERSATION):
            if i and i % 5 == 0:
                clock.advance("1d")
            s.ingest("user" if speaker == "Ana" else "assistant", text, speaker=speaker,
                     metadata={"turn_id": f"D1:{i + 1}"})
            clock.advance("3m")

    try:
        if batch_limit is None:
            run()
        else:
            with s.engine.store.batch(limit=batch_limit):
                run()
    finally:
        close(s)


def _tables(data_dir: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(data_dir / DB_FILE), read_only=True)
    try:
        return {
            "events": con.execute("SELECT * FROM events ORDER BY seq").fetchall(),
            "memories": con.execute("SELECT * FROM memories ORDER BY namespace, id").fetchall(),
            "versions": con.execute("SELECT * FROM memory_versions ORDER BY namespace, id, version").fetchall(),
        }
    finally:
        con.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_batched_ingest_writes_what_turn_by_turn_ingest_writes(tmp_path: Path, embedder, strategy: str) -> None:
    _ingest(tmp_path / "turns", embedder, strategy, None)
    expected = _tables(tmp_path / "turns")
    assert expected["events"] and (expected["memories"] or strategy == "full-context")
    for limit in (4096, 5):  # one transaction; and a batch written in parts while it is read
        _ingest(tmp_path / f"batch{limit}", embedder, strategy, limit)
        got = _tables(tmp_path / f"batch{limit}")
        assert got["events"] == expected["events"], f"events differ (limit {limit})"
        assert got["memories"] == expected["memories"], f"memories differ (limit {limit})"
        assert got["versions"] == expected["versions"], f"versions differ (limit {limit})"


def test_a_batch_left_by_an_exception_keeps_what_was_appended(tmp_path: Path, embedder) -> None:
    s = chat(load_settings(data_dir=tmp_path / "d"), embedder, "rag-turns")
    try:
        with pytest.raises(RuntimeError), s.engine.batch():
            s.ingest("user", "I live in Lisbon.")
            assert s.engine.store.memories("rag-turns")[0].text == "User: I live in Lisbon."  # read before commit
            raise RuntimeError("stop")
        s.ingest("user", "I live in Porto.")  # after the batch: committed one turn at a time again
    finally:
        close(s)
    store = EventStore(tmp_path / "d", read_only=True)
    try:
        assert [m.text for m in store.memories("rag-turns")] == ["User: I live in Lisbon.", "User: I live in Porto."]
        assert [e.seq for e in store.events()] == list(range(1, store.last_seq + 1))
    finally:
        store.close()
