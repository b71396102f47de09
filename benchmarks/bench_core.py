"""Core benchmarks: event log throughput and vector/keyword/hybrid search latency.

Search tables are filled with synthetic memories (Zipf-distributed words, random unit
vectors): exact vector search costs the same whatever the vectors mean, and it keeps
the 100k table from needing 5 minutes of embedding. End-to-end numbers embed each
query with the real default embedder (every query text is new, so nothing is cached).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentiles, save, timed  # noqa: E402

from memcli.core import operations as ops  # noqa: E402
from memcli.core.store.log import EventStore  # noqa: E402
from memcli.embed.embedder import SentenceTransformerEmbedder  # noqa: E402
from memcli.engine import Engine  # noqa: E402
from memcli.index.vector_index import VectorIndex  # noqa: E402
from memcli.settings import load_settings  # noqa: E402

VOCAB = [f"w{i}" for i in range(5000)] + "coffee lisbon porto cello peanuts sister hiking garden dog paris".split()
QUERIES = ["where does my sister live", "what am I allergic to", "favourite drink in the morning",
           "what instrument do I play", "plans for the weekend", "my dog's name", "trip to paris"]


def _sentence(rng: random.Random) -> str:
    return " ".join(VOCAB[min(int(rng.paretovariate(1.1)) - 1, len(VOCAB) - 1)] if rng.random() < 0.8
                    else rng.choice(VOCAB) for _ in range(rng.randint(6, 16)))


class HashVectors:
    """Deterministic random unit vectors per text (benchmark only: the index cost, not meaning)."""

    model_id, dim = "bench-hash-vectors", 384

    def embed(self, texts):
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out


class MixedEmbedder(HashVectors):
    """Hash vectors for stored rows; the real model for queries (the end-to-end path)."""

    def __init__(self, real: SentenceTransformerEmbedder) -> None:
        self.real = real

    def embed(self, texts):
        return self.real.embed(texts) if len(texts) == 1 and texts[0].startswith("Q:") else super().embed(texts)


def bench_append(n_batches: int = 300) -> dict:
    out = {}
    for size in (1, 20, 100):
        with tempfile.TemporaryDirectory() as tmp:
            engine = Engine(load_settings(data_dir=Path(tmp)), embedder=HashVectors())
            t = time.perf_counter()
            for i in range(n_batches):
                engine.apply("bench", [ops.Add(text=f"fact {i} {j}") for j in range(size)], sync_index=False)
            elapsed = time.perf_counter() - t
            engine.close()
        out[f"batch_{size}"] = {"events_per_s": round(n_batches * size / elapsed),
                                "ms_per_batch": round(1000 * elapsed / n_batches, 2)}
    return out


def bench_search(sizes: list[int], repeat: int, real: SentenceTransformerEmbedder) -> dict:
    rng = random.Random(0)
    embedder = MixedEmbedder(real)
    qvecs = real.embed(QUERIES)
    out = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = EventStore(Path(tmp))
            index = VectorIndex(Path(tmp) / "index", store, embedder)
            texts = [_sentence(rng) for _ in range(n)]
            index._create("bench", [{"id": f"m{i}", "text": t, "key": t, "vector": v}
                                    for i, (t, v) in enumerate(zip(texts, embedder.embed(texts)))])
            c = iter(range(10**9))

            def run(mode: str, embed: bool) -> None:
                q = next(c)
                text = QUERIES[q % len(QUERIES)]
                if embed:
                    index.search("bench", f"Q: {text} {q}", k=10, mode=mode)
                else:
                    index.search("bench", text, k=10, mode=mode, query_vector=qvecs[q % len(QUERIES)])

            run("hybrid", False)  # loads the mirror
            out[str(n)] = {
                "vector": percentiles(timed(lambda: run("vector", False), repeat)),
                "keyword": percentiles(timed(lambda: run("keyword", False), repeat)),
                "hybrid": percentiles(timed(lambda: run("hybrid", False), repeat)),
                "embed+vector": percentiles(timed(lambda: run("vector", True), repeat)),
                "embed+hybrid": percentiles(timed(lambda: run("hybrid", True), repeat)),
            }
            store.close()
    return out


def bench_appends(n_appends: int, compact_every: int, repeat: int, real: SentenceTransformerEmbedder) -> dict:
    """Hybrid search after n one-row appends through the engine vs after a rebuild (fresh table)."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(load_settings(data_dir=Path(tmp), compact_every=compact_every), embedder=MixedEmbedder(real))
        t = time.perf_counter()
        for _ in track(range(n_appends), description=f"{n_appends} one-row appends"):
            engine.apply("bench", [ops.Add(text=_sentence(rng))], sync_index=True)  # as a chat turn would
        append_ms = 1000 * (time.perf_counter() - t) / n_appends
        c = iter(range(10**9))

        def hybrid() -> None:
            q = next(c)
            engine.search("bench", f"Q: {QUERIES[q % len(QUERIES)]} {q}", k=10)

        hybrid()
        after = percentiles(timed(hybrid, repeat))
        fragments = engine.index._table("bench").stats()["fragment_stats"]["num_fragments"]
        engine.rebuild()
        hybrid()
        fresh = percentiles(timed(hybrid, repeat))
        engine.close()
    return {"append_ms_each": round(append_ms, 2), "compact_every": compact_every, "fragments_after": fragments,
            "after_appends_embed+hybrid": after, "fresh_embed+hybrid": fresh,
            "slowdown_p50": round(after["p50_ms"] / fresh["p50_ms"], 2),
            "slowdown_p95": round(after["p95_ms"] / fresh["p95_ms"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--appends", type=int, default=10000)
    ap.add_argument("--compact-every", type=int, default=64)
    args = ap.parse_args()
    console = Console()
    real = SentenceTransformerEmbedder()
    real.load()
    real.embed(["warm up"])
    results = {"append": bench_append()}
    console.print(results["append"])
    results["search"] = bench_search([int(s) for s in args.sizes.split(",")], args.repeat, real)
    table = Table(title="search latency, top-10 (ms)")
    for col in ("memories", "mode", "p50", "p95"):
        table.add_column(col)
    for n, res in results["search"].items():
        for mode, r in res.items():
            table.add_row(n, mode, str(r["p50_ms"]), str(r["p95_ms"]))
    console.print(table)
    if args.appends:
        results["appends"] = bench_appends(args.appends, args.compact_every, args.repeat, real)
        console.print(results["appends"])
    console.print(f"saved {save('core', results)}")


if __name__ == "__main__":
    main()
