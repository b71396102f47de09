"""Fast loop for retrieval variants on LoCoMo: ingest a conversation once, re-score many variants.

`memcli eval locomo` ingests every conversation again for every run (minutes per conversation on
a loaded machine). Retrieval-only changes (a strategy's `retrieve` and its parameters) do not
change the memories, so this script ingests each conversation once with the first `-S` variant
(its parameters too) into a kept data dir (`--cache`), then scores each variant's retrieval
against it, the same way the harness does (provenance expanded to turn ids, recall@k per
question, tokens of the memories sent).
The figures reported in docs/benchmarks.md still come from `memcli eval locomo`.

    python benchmarks/locomo_variants.py FILE --convs conv-30 -S longmemeval -S 'longmemeval:x=1'
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from memcli.chat import ingest_conversation, open_chat
from memcli.clock import SimulatedClock
from memcli.context import memory_block
from memcli.core.events import Kind
from memcli.embed.factory import build_embedder
from memcli.eval.locomo import CATEGORIES, StrategySpec, _hits_for, expand
from memcli.model.factory import build_chat_model
from memcli.replay.importers import read_locomo
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry


def ingest(conv, base: str, params: dict, data_dir: Path, settings, embedder, registry) -> None:
    """The conversation's turns through `base` with `params` (its memories in namespace `base`), as the harness does."""
    clock = SimulatedClock(conv.sessions[0].date)
    with open_chat(settings.model_copy(update={"data_dir": data_dir}), strategy=base, params=params, clock=clock,
                   embedder=embedder, registry=registry, background=False) as chat:
        chat.strategy.namespace = base
        chat.activate(chat.strategy)
        with chat.engine.batch():
            ingest_conversation(chat, conv, clock)
    (data_dir / "now.json").write_text(json.dumps({"now": (clock.now() + timedelta(days=1)).isoformat()}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--convs", required=True)
    ap.add_argument("-S", "--strategy", action="append", required=True)
    ap.add_argument("-k", default="10")
    ap.add_argument("--cache", default="/tmp/locomo_variants")
    ap.add_argument("--misses", action="store_true", help="print the questions the first variant misses")
    args = ap.parse_args()
    ks = [int(x) for x in args.k.split(",")]
    settings = load_settings(data_dir=None)
    embedder = build_embedder(settings)
    count_tokens = build_chat_model(settings).count_tokens
    registry = StrategyRegistry()
    specs = [StrategySpec.parse(s) for s in args.strategy]
    wanted = args.convs.split(",")
    convs = [c for c in read_locomo(Path(args.file)) if c.id in wanted]
    rows: dict[str, list] = {s.label: [] for s in specs}
    for conv in convs:
        with cached_chat(conv, specs[0], Path(args.cache), settings, embedder, registry) as (chat, now):
            score(chat, conv, specs, registry, specs[0].name, now, ks, count_tokens, rows)
    report(rows, specs, ks, args.misses)


@contextmanager
def cached_chat(conv, spec: StrategySpec, cache: Path, settings, embedder, registry):
    """The conversation ingested with `spec` into a data dir kept under `cache` (done once), opened as a chat:
    yields (chat, the time its questions are asked at)."""
    data_dir = cache / re.sub(r"[^\w.=-]+", "_", f"{conv.id}-{spec.label}")
    if not (data_dir / "now.json").exists():
        t0 = time.perf_counter()
        ingest(conv, spec.name, spec.params, data_dir, settings, embedder, registry)
        print(f"{conv.id}: ingested in {time.perf_counter() - t0:.0f} s", flush=True)
    now = datetime.fromisoformat(json.loads((data_dir / "now.json").read_text())["now"])
    with open_chat(settings.model_copy(update={"data_dir": data_dir}), strategy=spec.name, params={},
                   clock=SimulatedClock(now), embedder=embedder, registry=registry, background=False) as chat:
        yield chat, now


def turn_ids(chat) -> dict[int, str]:
    """Each message event's seq → the LoCoMo turn id it was ingested from."""
    messages = chat.engine.store.events(kinds=[Kind.MESSAGE_USER, Kind.MESSAGE_ASSISTANT])
    return {e.seq: e.payload.get("metadata", {}).get("turn_id") for e in messages}


def score(chat, conv, specs, registry, base, now, ks, count_tokens, rows) -> None:
    """Each variant's retrieval for each question of `conv`, scored as the harness does."""
    seq_to_turn = turn_ids(chat)
    questions = [q for q in conv.questions if q.category in CATEGORIES and q.evidence]
    for spec in specs:
        strategy = chat.activate(registry.create(spec.name, spec.params, namespace=base))
        view = chat.view(strategy, now=now)
        for q in questions:
            rec, tok, lat = {}, {}, 0.0
            for k in ks:
                t0 = time.perf_counter()
                hits = strategy.retrieve(q.question, view, k).hits
                lat = time.perf_counter() - t0
                ranked = expand(hits, seq_to_turn, k)
                rec[k] = len(set(q.evidence) & set(ranked)) / len(q.evidence)
                tok[k] = count_tokens(memory_block([h.text for h in _hits_for(hits, seq_to_turn, k)]))
            rows[spec.label].append((conv.id, q, rec, tok, lat, ranked))


def report(rows, specs, ks, misses: bool) -> None:
    """One line per variant (recall per cut-off and category, tokens, latency); with `misses`, the first one's misses."""
    for label, rs in rows.items():
        cats = {CATEGORIES[c]: statistics.fmean(r[2][ks[-1] if len(ks) == 1 else 10] for r in rs if r[1].category == c)
                for c in sorted({r[1].category for r in rs})}
        lat = sorted(r[4] * 1000 for r in rs)
        print(f"{label:60s} " + " ".join(f"@{k} {statistics.fmean(r[2][k] for r in rs):.3f}" for k in ks)
              + "  " + " ".join(f"{c[:6]} {v:.3f}" for c, v in cats.items())
              + f"  tok {statistics.fmean(r[3][ks[0] if 10 not in ks else 10] for r in rs):.0f}"
              + f"  p50 {lat[len(lat) // 2]:.0f}ms p95 {lat[int(len(lat) * .95)]:.0f}ms", flush=True)
    if misses:
        k = 10 if 10 in ks else ks[0]
        for conv_id, q, rec, _, _, ranked in rows[specs[0].label]:
            if rec[k] < 1:
                print(f"{conv_id} c{q.category} {rec[k]:.2f} {q.question} | ev {q.evidence} | got {ranked[:k]}")


if __name__ == "__main__":
    main()
