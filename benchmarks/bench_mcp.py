"""`recall` latency over MCP stdio at 10k memories (issue 19).

A data dir is filled with N memories through the engine directly (one batch of Add operations
per 500, embedded by the real default embedder), then `memcli mcp` is started over stdio and the
official SDK client times `recall` round trips (client send → server: retrieval with the strategy,
the memory.retrieved and mcp.call events appended → reply parsed). Every query text is new, so no
query embedding is cached. Warm-up calls are not counted.

    .venv/bin/python benchmarks/bench_mcp.py                  # 10k memories, rag-turns and mem0
    .venv/bin/python benchmarks/bench_mcp.py --memories 1000 --calls 50
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentiles, save  # noqa: E402

from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.types import Implementation  # noqa: E402

from memcli.core import operations as ops  # noqa: E402
from memcli.engine import Engine  # noqa: E402
from memcli.settings import load_settings  # noqa: E402

PEOPLE = "Ada Ben Carla Dev Eli Fatima Gus Hana Ivan Jun Kemal Lena Marco Nia Omar Priya Quinn Rosa Sami Tomas".split()
VERBS = ["likes", "is learning", "owns", "visited", "works on", "wants to buy", "cooked", "recommends", "fixed",
         "is allergic to"]
THINGS = ("green tea, the cello, a red bicycle, Lisbon, the billing service, a sourdough starter, Kubernetes, "
          "a vintage camera, Rust, the Alps, a standing desk, PostgreSQL, a cat named Miso, jazz records, "
          "the night train to Vienna, a vegetable garden, chess openings, an old Volvo, Python typing, "
          "Japanese knives, a mechanical keyboard, marathon training, the quarterly report, sea kayaking, "
          "a 3D printer").split(", ")
WHEN = ["last spring", "every Sunday", "since 2019", "this week", "after work", "on holiday", "at the office",
        "with friends", "in the morning", "for years"]
QUERY_FORMS = ["What does {p} think of {t}?", "Who {v} {t}?", "Tell me about {p} and {t}.",
               "When did {p} get into {t}?", "Does anyone know about {t} {w}?"]


def facts(n: int, rng: random.Random) -> list[str]:
    combos = list(itertools.product(PEOPLE, VERBS, THINGS, WHEN))
    rng.shuffle(combos)
    if n > len(combos):
        raise SystemExit(f"at most {len(combos)} distinct memories")
    return [f"User: {p} {v} {t} {w}." for p, v, t, w in combos[:n]]


def queries(n: int, rng: random.Random) -> list[str]:
    seen: set[str] = set()
    while len(seen) < n:
        form = rng.choice(QUERY_FORMS)
        seen.add(form.format(p=rng.choice(PEOPLE), v=rng.choice(VERBS), t=rng.choice(THINGS), w=rng.choice(WHEN)))
    return sorted(seen, key=lambda _: rng.random())


def fill(data_dir: Path, namespaces: list[str], n: int, rng: random.Random) -> float:
    started = time.perf_counter()
    texts = facts(n, rng)
    engine = Engine(load_settings(data_dir=data_dir))
    try:
        for ns in namespaces:
            for i in range(0, n, 500):
                engine.apply(ns, [ops.Add(text=t, reason="bench fill") for t in texts[i:i + 500]])
            engine.synced(ns)
    finally:
        engine.close()
    return time.perf_counter() - started


async def time_recalls(data_dir: Path, strategy: str, qs: list[str], warm: int, k: int) -> dict:
    env = {key: v for key, v in os.environ.items() if key.startswith("MEMCLI_") or key in ("PATH", "HOME")}
    params = StdioServerParameters(command=str(Path(sys.executable).with_name("memcli")),
                                   args=["mcp", "--data-dir", str(data_dir), "--strategy", strategy], env=env)
    samples: list[float] = []
    hits = 0
    started = time.perf_counter()
    async with Client(params, client_info=Implementation(name="bench", version="1"), read_timeout_seconds=300) as c:
        ready = time.perf_counter() - started
        for i, q in enumerate(qs):
            t = time.perf_counter()
            result = await c.call_tool("recall", {"query": q, "k": k})
            elapsed = time.perf_counter() - t
            assert not result.is_error, result.content
            if i >= warm:
                samples.append(elapsed)
                hits += len(result.structured_content["hits"])
    return {**percentiles(samples), "server_ready_s": round(ready, 2), "mean_hits": round(hits / len(samples), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--strategies", default="rag-turns,mem0")
    args = parser.parse_args()
    rng = random.Random(19)
    strategies = args.strategies.split(",")
    with tempfile.TemporaryDirectory(prefix="memcli-bench-mcp-") as tmp:
        data_dir = Path(tmp) / "data"
        fill_s = fill(data_dir, strategies, args.memories, rng)
        print(f"filled {args.memories} memories in each of {', '.join(strategies)} in {fill_s:.1f} s", flush=True)
        results = {}
        for strategy in strategies:
            qs = queries(args.warm + args.calls, rng)
            results[strategy] = asyncio.run(time_recalls(data_dir, strategy, qs, args.warm, args.k))
            print(f"{strategy}: recall over MCP stdio at {args.memories} memories: {results[strategy]}", flush=True)
    path = save("mcp_recall", {"memories": args.memories, "calls": args.calls, "k": args.k,
                               "fill_s": round(fill_s, 1), "load_1min": os.getloadavg()[0], "recall": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
