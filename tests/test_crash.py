"""SIGKILL at random points of memory work, 20 times: no acknowledged event is lost, the
projection equals a rebuild from the log, and the index is reconciled at the next start."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry

HELPER = Path(__file__).parent / "helpers" / "crash_session.py"
RUNS = 20


def _run_and_kill(data: Path, mode: str, rng: random.Random) -> int:
    proc = subprocess.Popen([sys.executable, str(HELPER), str(data), mode], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("READY"), proc.stderr.read()  # type: ignore[union-attr]
    deadline = time.monotonic() + rng.uniform(0.2, 2.5)
    acked = 0
    for line in proc.stdout:  # type: ignore[union-attr]
        if line.startswith("ACK"):
            acked = int(line.split()[1])
        if time.monotonic() >= deadline or line.startswith("DONE"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return acked


def _check(data: Path, acked: int, embedder) -> None:
    with Engine(load_settings(data_dir=data), embedder=embedder) as engine:
        store = engine.store
        seqs = [e.seq for e in store.events()]
        assert seqs == list(range(1, len(seqs) + 1)) and (seqs[-1] if seqs else 0) >= acked  # a write batch
        # killed before its first commit leaves nothing, and acknowledged nothing
        assert store.state_as_of(store.last_seq) == store.projection()
        for ns in store.namespaces():
            active = {m.id for m in store.memories(ns)}
            index = engine.open()  # opening the index reconciles it with the log
            index.sync(ns)
            table = index._table(ns)
            ids = set(table.to_arrow().column("id").to_pylist()) if table is not None else set()
            assert ids == active, f"{ns}: index {len(ids)} vs log {len(active)}"


@pytest.mark.slow
def test_twenty_sigkills_lose_nothing(tmp_path: Path, embedder) -> None:
    rng = random.Random(20)
    survived = 0
    for run in range(RUNS):
        data = tmp_path / f"run{run}"
        if run % 2 == 1:  # a backfill: log a conversation first, then kill the backfill
            engine = Engine(load_settings(data_dir=data), clock=SimulatedClock(), embedder=embedder)
            s = Chat(engine, StrategyRegistry(data / "none"), model=None, strategy="rag-turns",
                            background=False)
            for i in range(60):
                s.ingest("user", f"I am allergic to thing {i}. I love sport {i}.")
            s.close()
            engine.close()
        acked = _run_and_kill(data, "backfill" if run % 2 else ("batch" if run % 4 == 2 else "ingest"), rng)
        _check(data, acked, embedder)
        survived += 1
    assert survived == RUNS
