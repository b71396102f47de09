"""Runs memory work until killed: `ingest` logs turns through mem0; `backfill` replays a logged
conversation into memorybank. Prints READY, then ACK <seq> after each acknowledged step."""

import sys
from pathlib import Path

from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.session import ChatSession
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry

data, mode = Path(sys.argv[1]), sys.argv[2]
clock = SimulatedClock()
engine = Engine(load_settings(data_dir=data), clock=clock)
session = ChatSession(engine, StrategyRegistry(data / "none"), model=None, strategy="mem0", background=False)
engine.embedder.load()
print("READY", flush=True)
if mode == "ingest":
    for i in range(10_000):
        turn = session.ingest("user", f"I love hobby number {i}. My friend {i} lives in city {i}.")
        clock.advance("1h")
        print(f"ACK {engine.store.last_seq} {turn.seq}", flush=True)
else:
    session.backfill("memorybank", progress=lambda i, n: print(f"ACK {engine.store.last_seq} {i}", flush=True))
    print("DONE", flush=True)
