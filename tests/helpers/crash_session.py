"""Runs memory work until killed: `ingest` logs turns through mem0; `batch` logs turns through
rag-turns in one write batch; `backfill` runs a logged conversation through memorybank. Prints READY, then ACK <seq> after each step: the last event committed."""

import sys
from pathlib import Path

from memcli.chat import open_chat
from memcli.clock import SimulatedClock
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry

data, mode = Path(sys.argv[1]), sys.argv[2]
clock = SimulatedClock()
strategy = "rag-turns" if mode == "batch" else "mem0"
with open_chat(load_settings(data_dir=data), strategy=strategy, clock=clock, registry=StrategyRegistry(data / "none"),
               background=False) as chat:
    engine = chat.engine
    engine.embedder.load()
    print("READY", flush=True)
    if mode == "ingest":
        for i in range(10_000):
            turn = chat.ingest("user", f"I love hobby number {i}. My friend {i} lives in city {i}.")
            clock.advance("1h")
            print(f"ACK {engine.store.last_seq} {turn.seq}", flush=True)
    elif mode == "batch":  # an import's write batch, searched now and then (each search commits it first)
        with engine.batch():
            for i in range(10_000):
                chat.ingest("user", f"I love hobby number {i}. My friend {i} lives in city {i}.")
                clock.advance("1h")
                if i % 25 == 24:
                    chat.view().search("hobby", k=3)
                print(f"ACK {engine.store.committed_seq} {i}", flush=True)
    else:
        # a backfill writes in batches (EventStore.batch): what it acknowledges is what reached the file
        chat.backfill("memorybank", progress=lambda i, n: print(f"ACK {engine.store.committed_seq} {i}", flush=True))
        print("DONE", flush=True)
