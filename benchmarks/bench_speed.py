"""Embedder backends, ingest and eval wall time: torch vs ONNX Runtime, serial vs --workers.

Every comparison is made inside one run, the two sides interleaved where they can be, so the
ratios hold on a machine whose speed drifts (the reference machine is shared: quote medians
and ratios).

- embed: one query text, torch vs ONNX fp32, alternating (p50/p95 and the ratio).
- retrieval: query embedding + hybrid top-10 on synthetic tables of 10k and 100k memories
  (as in bench_core.py), torch and ONNX queries alternating in blocks on the same table (and, with
  `--retrieval-before`, ONNX queries through another version of the index, checked to rank the same);
  wall time and CPU time (all threads) per query.
- ready: a fresh process imports and loads the embedder and embeds one query (median of runs).
- ingest: ingest of one conversation (default: the one `synthetic_locomo.py` makes, 480 turns),
  turns/s per strategy, turn by turn (a transaction per append, as before write batches) and
  batched (`Engine.batch`, as import, backfill, eval and `memcli ingest` now run), interleaved;
  the log + memories part and the index sync (embedding every memory) timed apart.
- eval: `memcli eval locomo` wall time with --workers 1 and --workers N (needs --locomo).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentiles, save  # noqa: E402
from bench_core import QUERIES, HashVectors, MixedEmbedder, _sentence  # noqa: E402

from memcli.embed.embedder import SentenceTransformerEmbedder  # noqa: E402
from memcli.embed.onnx_embedder import OnnxEmbedder  # noqa: E402
from memcli.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "locomo_tiny.json"


def _ratio(a: dict, b: dict) -> dict:
    return {"p50": round(a["p50_ms"] / b["p50_ms"], 2), "p95": round(a["p95_ms"] / b["p95_ms"], 2)}


def bench_embed(backends: dict, repeat: int) -> dict:
    samples: dict[str, list[float]] = {name: [] for name in backends}
    for i in range(repeat):
        for name, emb in backends.items():
            text = f"{QUERIES[i % len(QUERIES)]} {i}"
            t = time.perf_counter()
            emb.embed([text])
            samples[name].append(time.perf_counter() - t)
    out = {name: percentiles(s) for name, s in samples.items()}
    texts = [_sentence(random.Random(i)) for i in range(512)]
    for name, emb in backends.items():
        t = time.perf_counter()
        emb.embed(texts)
        out[name]["batch_512_texts_per_s"] = round(len(texts) / (time.perf_counter() - t))
    return out | {"torch/onnx": _ratio(out["torch"], out["onnx"])}


def _index_class(source: Path | None):
    """VectorIndex from this tree, or from another version of vector_index.py (`--retrieval-before`)."""
    if source is None:
        from memcli.index.vector_index import VectorIndex

        return VectorIndex
    import importlib.util

    spec = importlib.util.spec_from_file_location("vector_index_before", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.VectorIndex


BLOCK = 20


def bench_retrieval(backends: dict, sizes: list[int], repeat: int, before: Path | None = None) -> dict:
    """Query embedding + hybrid top-10, torch and ONNX queries alternating (in blocks) on one table; with
    `before` (another vector_index.py), ONNX queries through that version's search too. Wall time per
    query and the process's CPU time per query (every thread's)."""
    from memcli.core.store.log import EventStore

    rng = random.Random(0)
    out = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = EventStore(Path(tmp))
            index = _index_class(None)(Path(tmp) / "index", store, HashVectors())
            texts = [_sentence(rng) for _ in range(n)]
            index._create("bench", [{"id": f"m{i}", "text": t, "key": t, "vector": v}
                                    for i, (t, v) in enumerate(zip(texts, HashVectors().embed(texts)))])
            runs = {name: (index, MixedEmbedder(emb)) for name, emb in backends.items()}
            if before is not None:
                runs["onnx_before"] = (_index_class(before)(Path(tmp) / "index", store, HashVectors()),
                                       MixedEmbedder(backends["onnx"]))
            for idx, _ in runs.values():  # loads the mirror
                idx.search("bench", "warm up", k=10, query_vector=HashVectors().embed(["w"])[0])
            samples: dict[str, list[float]] = {name: [] for name in runs}
            cpu: dict[str, float] = {name: 0.0 for name in runs}
            hits: dict[str, list] = {name: [] for name in runs}
            names = list(runs)
            # Blocks of BLOCK queries per variant, the order rotating: a variant's leftovers (a BLAS
            # thread still spinning after its product) then land in its own block, not in the next query.
            for b, start in enumerate(range(0, repeat, BLOCK)):
                for name in names[b % len(names):] + names[:b % len(names)]:
                    idx, query_embedder = runs[name]
                    idx.embedder = query_embedder
                    c = time.process_time()
                    for i in range(start, min(start + BLOCK, repeat)):
                        t = time.perf_counter()
                        found = idx.search("bench", f"Q: {QUERIES[i % len(QUERIES)]} {i}", k=10, mode="hybrid")
                        samples[name].append(time.perf_counter() - t)
                        hits[name].append([(h.id, h.score) for h in found])
                    cpu[name] += time.process_time() - c
            store.close()
        res = {name: percentiles(s) | {"cpu_ms_per_query": round(1000 * cpu[name] / repeat, 2)}
               for name, s in samples.items()}
        res["torch/onnx"] = _ratio(res["torch"], res["onnx"])
        if before is not None:
            res["before/after"] = _ratio(res["onnx_before"], res["onnx"])
            res["same_hits_as_before"] = hits["onnx_before"] == hits["onnx"]
        out[str(n)] = res
    return out


def bench_ready(cache: Path, runs: int) -> dict:
    """A fresh process: import, load, embed one query (the embedder's start-up)."""
    code = {
        "torch": "from memcli.embed.embedder import SentenceTransformerEmbedder as E; E().embed(['hello'])",
        "onnx": f"from memcli.embed.onnx_embedder import OnnxEmbedder as E; E({str(cache)!r}).embed(['hello'])",
    }
    samples: dict[str, list[float]] = {name: [] for name in code}
    for _ in range(runs):
        for name, line in code.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", line], check=True, capture_output=True)
            samples[name].append(time.perf_counter() - t)
    out = {name: {"median_s": round(statistics.median(s), 2), "max_s": round(max(s), 2)} for name, s in samples.items()}
    return out | {"torch/onnx": round(out["torch"]["median_s"] / out["onnx"]["median_s"], 2)}


def _ingest_once(conv, strategy: str, embedder, batched: bool) -> tuple[float, float]:
    """(seconds to log the turns and build the memories, seconds to sync the index) for one ingest."""
    import contextlib

    from memcli.chat import ingest_conversation, open_chat
    from memcli.clock import SimulatedClock

    with tempfile.TemporaryDirectory() as tmp:
        clock = SimulatedClock(conv.sessions[0].date)
        with open_chat(load_settings(data_dir=Path(tmp)), strategy=strategy, clock=clock, embedder=embedder,
                       background=False) as chat:
            chat.engine.open()  # LanceDB opened: not part of the turns
            t = time.perf_counter()
            with chat.engine.batch() if batched else contextlib.nullcontext():
                ingest_conversation(chat, conv, clock)
            logged = time.perf_counter() - t
            t = time.perf_counter()
            chat.engine.synced(chat.namespace)  # every memory embedded (one batch) and written to LanceDB
            synced = time.perf_counter() - t
    return logged, synced


# The same turn-by-turn ingest for another checkout's interpreter (`--ingest-before`: a venv of the code
# before a change; it needs `open_chat` and `ingest_conversation`); prints the two timings as JSON.
_BEFORE = """
import json, sys, tempfile, time
from pathlib import Path
from memcli.chat import ingest_conversation, open_chat
from memcli.clock import SimulatedClock
from memcli.embed.onnx_embedder import OnnxEmbedder
from memcli.replay.importers import read_locomo
from memcli.settings import load_settings
conv = read_locomo(Path(sys.argv[1]))[0]
with tempfile.TemporaryDirectory() as tmp:
    clock = SimulatedClock(conv.sessions[0].date)
    with open_chat(load_settings(data_dir=Path(tmp)), strategy=sys.argv[2], clock=clock,
                   embedder=OnnxEmbedder(Path(sys.argv[3])), background=False) as chat:
        chat.engine.open()
        chat.engine.embedder.embed(["warm up"])
        t = time.perf_counter()
        ingest_conversation(chat, conv, clock)
        logged = time.perf_counter() - t
        t = time.perf_counter()
        chat.engine.synced(chat.namespace)
        print(json.dumps([logged, time.perf_counter() - t]))
"""


def _ingest_before(python: Path, locomo: Path, strategy: str, cache: Path) -> tuple[float, float]:
    done = subprocess.run([str(python), "-c", _BEFORE, str(locomo), strategy, str(cache)], check=True,
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    logged, synced = json.loads(done.stdout.strip().splitlines()[-1])
    return logged, synced


def bench_ingest(embedder, locomo: Path | None, strategies: list[str], runs: int, before: Path | None = None) -> dict:
    """Turn-by-turn vs batched ingest (and `before`'s turn by turn), interleaved, `runs` times each:
    medians of turns/s."""
    from memcli.replay.importers import read_locomo

    if locomo is None:
        from synthetic_locomo import make

        locomo = Path(tempfile.mkdtemp(prefix="memcli-bench-conv-")) / "synthetic.json"
        locomo.write_text(json.dumps([make()]))
    conv = read_locomo(locomo)[0]
    n = conv.turn_count
    out: dict = {"turns": n, "runs": runs, "conversation": locomo.name}
    for name in strategies:
        samples: dict[str, list[tuple[float, float]]] = {"turn_by_turn": [], "batched": []}
        if before is not None:
            samples["before"] = []
        for _ in range(runs):
            for mode in samples:
                samples[mode].append(_ingest_before(before, locomo, name, embedder.cache_dir) if mode == "before"
                                     else _ingest_once(conv, name, embedder, mode == "batched"))
        row = {}
        for mode, runs_ in samples.items():
            logged = statistics.median(r[0] for r in runs_)
            total = statistics.median(r[0] + r[1] for r in runs_)
            row[mode] = {"log_and_memories_turns_per_s": round(n / logged, 1),
                         "with_index_sync_turns_per_s": round(n / total, 1),
                         "index_sync_s": round(statistics.median(r[1] for r in runs_), 2)}
        row["speed_up_log_and_memories"] = round(row["batched"]["log_and_memories_turns_per_s"]
                                                 / row["turn_by_turn"]["log_and_memories_turns_per_s"], 2)
        row["speed_up_with_index_sync"] = round(row["batched"]["with_index_sync_turns_per_s"]
                                                / row["turn_by_turn"]["with_index_sync_turns_per_s"], 2)
        if before is not None:
            row["speed_up_log_and_memories_vs_before"] = round(row["batched"]["log_and_memories_turns_per_s"]
                                                               / row["before"]["log_and_memories_turns_per_s"], 2)
        out[name] = row
    return out


def bench_eval(locomo: Path, convs: int, strategies: str, workers: int) -> dict:
    out = {}
    for n in (1, workers):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "memcli", "eval", "locomo", str(locomo), "-S", strategies,
                            "--limit-convs", str(convs), "--workers", str(n), "--json", f"{tmp}/r.json",
                            "--data-dir", f"{tmp}/d"], check=True, capture_output=True)
            out[f"workers_{n}_s"] = round(time.perf_counter() - t, 1)
    return out | {"speed_up": round(out["workers_1_s"] / out[f"workers_{workers}_s"], 2),
                  "units": convs * len(strategies.split(","))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="embed,retrieval,ready,ingest,eval")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--ready-runs", type=int, default=5)
    ap.add_argument("--locomo", type=Path, default=FIXTURE, help="a LoCoMo file for eval")
    ap.add_argument("--ingest-locomo", type=Path, default=None,
                    help="a LoCoMo file whose first conversation ingest uses (default: synthetic_locomo.py's)")
    ap.add_argument("--ingest-strategies", default="rag-turns,longmemeval")
    ap.add_argument("--ingest-runs", type=int, default=3)
    ap.add_argument("--ingest-before", type=Path, default=None, metavar="PYTHON",
                    help="also time turn-by-turn ingest with this interpreter (a venv of the code before)")
    ap.add_argument("--retrieval-before", type=Path, default=None, metavar="VECTOR_INDEX_PY",
                    help="also time ONNX retrieval through another version of memcli/index/vector_index.py "
                         "(e.g. the main checkout's), alternating in blocks")
    ap.add_argument("--out", default="speed", help="results/<out>.json")
    ap.add_argument("--eval-convs", type=int, default=2)
    ap.add_argument("--eval-strategies", default="rag-turns,longmemeval")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    only = set(args.only.split(","))
    console = Console()
    cache = Path(tempfile.mkdtemp(prefix="memcli-bench-onnx-"))
    backends = {"torch": SentenceTransformerEmbedder(), "onnx": OnnxEmbedder(cache)}
    if only & {"embed", "retrieval"}:
        backends["torch"].embed(["warm up"])
    backends["onnx"].embed(["warm up"])
    results: dict = {}
    if "embed" in only:
        results["embed"] = bench_embed(backends, args.repeat)
        console.print("embed", results["embed"])
    if "retrieval" in only:
        results["retrieval"] = bench_retrieval(backends, [int(s) for s in args.sizes.split(",")], args.repeat,
                                                args.retrieval_before)
        console.print("retrieval", results["retrieval"])
    if "ready" in only:
        results["ready"] = bench_ready(cache, args.ready_runs)
        console.print("ready", results["ready"])
    if "ingest" in only:
        results["ingest"] = bench_ingest(backends["onnx"], args.ingest_locomo, args.ingest_strategies.split(","),
                                         args.ingest_runs, args.ingest_before)
        console.print("ingest", results["ingest"])
    if "eval" in only:
        results["eval"] = bench_eval(args.locomo, args.eval_convs, args.eval_strategies, args.workers)
        console.print("eval", results["eval"])
    console.print(f"saved {save(args.out, results)}")


if __name__ == "__main__":
    main()
