"""Readers alongside a writer, a consistent backup while it runs, events in order under load."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from memcli.core.events import Kind

HELPERS = Path(__file__).parent / "helpers"


@pytest.fixture
def writer(tmp_path: Path):
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, str(HELPERS / "hold_writer.py"), str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line.startswith("READY"), proc.stderr.read()  # type: ignore[union-attr]
    yield data, int(line.split()[1])
    proc.kill()
    proc.wait()


def _memcli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "memcli", *args], capture_output=True, text=True, timeout=120)


def test_read_only_commands_run_alongside_a_writer(writer) -> None:
    data, ready_seq = writer
    listed = _memcli("memories", "list", "-S", "rag-turns", "--json", "--data-dir", str(data))
    assert listed.returncode == 0, listed.stderr
    texts = [m["text"] for m in json.loads(listed.stdout)]
    assert texts[:5] == [f"fact {i}" for i in range(5)]
    log = _memcli("log", "--json", "--limit", "100000", "--data-dir", str(data))
    assert log.returncode == 0, log.stderr
    seqs = [e["seq"] for e in json.loads(log.stdout)]
    assert seqs[-1] >= ready_seq and seqs == list(range(1, len(seqs) + 1))
    # … while a second writer is still refused with the holder's name
    refused = _memcli("memories", "pin", "m1", "-S", "rag-turns", "--data-dir", str(data))
    assert refused.returncode == 1 and "in use by pid" in refused.stderr


def test_backup_while_running_is_consistent(writer, tmp_path: Path) -> None:
    data, ready_seq = writer
    target = tmp_path / "backup.duckdb"
    result = _memcli("backup", str(target), "--json", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    n = json.loads(result.stdout)["events"]
    assert n >= ready_seq
    restored = tmp_path / "restored"
    restored.mkdir()
    target.rename(restored / "memcli.duckdb")
    rebuilt = _memcli("rebuild", "--json", "--data-dir", str(restored))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout) == {"events": n, "memories": n, "seconds": json.loads(rebuilt.stdout)["seconds"]}


def test_events_stay_in_order_while_memory_work_runs_in_background(settings, embedder) -> None:
    from memcli.clock import SimulatedClock
    from memcli.engine import Engine
    from memcli.chat import Chat
    from memcli.strategy.registry import StrategyRegistry

    engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
    s = Chat(engine, StrategyRegistry(settings.data_dir / "none"), model=None, strategy="rag-turns",
                    params={"roles": "both"}, background=True)  # every message a memory, replies included
    try:
        def typist(n: int) -> None:
            for i in range(10):
                s.send(f"I love topic {n}-{i}.", reply="ok")

        threads = [threading.Thread(target=typist, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s.drain()
        events = engine.store.events()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        # every message was extracted exactly once, after it was logged
        messages = [e for e in events if e.kind in (Kind.MESSAGE_USER, Kind.MESSAGE_ASSISTANT)]
        extracted = [e for e in events if e.kind is Kind.MEMORY_EXTRACTED]
        assert len(messages) == 40
        assert sorted(e.payload["turn"] for e in extracted) == [e.seq for e in messages]
        assert all(x.seq > x.payload["turn"] for x in extracted)
        assert len(engine.store.memories("rag-turns")) == 40  # every message, none lost or doubled
        assert engine.store.state_as_of(engine.store.last_seq) == engine.store.projection()
    finally:
        s.close()
        engine.close()
