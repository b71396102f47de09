"""Fit longmemeval's learned ranker (`WEIGHTS` in plugins/longmemeval_ranker.py) on LoCoMo conversations.

    python benchmarks/fit_ranker.py FILE --convs conv-26,conv-30,conv-41 [--score conv-42,conv-43]

Each conversation is ingested once into a kept data dir (the cache of locomo_variants.py). For each
question, the candidate pool and its features come from the strategy itself (`LongMemEval.candidates`);
a candidate is labelled 1 when one of its turns is evidence. A logistic regression (scikit-learn,
standardised features, C=1) is fit on every candidate of the `--convs` conversations. Printed:
recall@10 of the hand-set order and of the model, the model scored leave-one-conversation-out
(fit on the other conversations), and the `WEIGHTS` dict to paste (coefficient / standard deviation).
`--score` scores the weights fit on all of `--convs` on other conversations: the part only checked,
to be run once, after the choices are made.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from locomo_variants import cached_chat, turn_ids
from memcli.embed.factory import build_embedder
from memcli.eval.locomo import CATEGORIES, StrategySpec, expand
from memcli.replay.importers import read_locomo
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from memcli_plugins.longmemeval_ranker import WEIGHTS

K = 10


def pools(path: Path, conv_ids: list[str], spec: StrategySpec, cache: Path) -> list[dict]:
    """Per question of the `conv_ids` conversations: its candidates with their features (`found`), a label per
    candidate (1: one of its turns is evidence), the evidence, and what `recall` needs to expand turns."""
    settings = load_settings(data_dir=None)
    embedder, registry = build_embedder(settings), StrategyRegistry()
    out = []
    for conv in (c for c in read_locomo(path) if c.id in conv_ids):
        with cached_chat(conv, spec, cache, settings, embedder, registry) as (chat, now):
            seq_to_turn = turn_ids(chat)
            strategy = chat.activate(registry.create(spec.name, spec.params, namespace=spec.name))
            view = chat.view(strategy, now=now)
            for q in conv.questions:
                if q.category not in CATEGORIES or not q.evidence:
                    continue
                found = strategy.candidates(q.question, view, K, features=True)
                evidence = set(q.evidence)
                labels = [float(bool(evidence & set(expand([h], seq_to_turn, 99)))) for h in found.pool]
                out.append({"conv": conv.id, "found": found, "labels": labels, "evidence": evidence,
                            "seq_to_turn": seq_to_turn, "strategy": strategy})
        print(f"{conv.id}: {sum(1 for r in out if r['conv'] == conv.id)} questions", flush=True)
    return out


def recall(row: dict, weights: dict[str, float] | None) -> float:
    """recall@K of the hand-set order (`weights` None) or of the learned order under `weights`."""
    found = row["found"]
    hits = found.pool if weights is None else row["strategy"].learned_order(found, weights)
    return len(row["evidence"] & set(expand(hits, row["seq_to_turn"], K))) / len(row["evidence"])


def fit(rows: list[dict]) -> dict[str, float]:
    """Logistic regression on every candidate of `rows`: the weights per raw feature value."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    names = sorted(next(iter(rows[0]["found"].table.values())))
    x = np.array([[r["found"].table[h.memory_id][n] for n in names] for r in rows for h in r["found"].pool])
    y = np.array([label for r in rows for label in r["labels"]])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(scaler.transform(x), y)
    return {n: round(float(c / s), 6) for n, c, s in zip(names, model.coef_[0], scaler.scale_)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--convs", required=True, help="conversations to fit on (comma-separated sample ids)")
    ap.add_argument("--score", default="", help="conversations to score the fitted weights on, once")
    ap.add_argument("-S", "--strategy", default="longmemeval", help="the strategy spec whose candidates to fit")
    ap.add_argument("--cache", default="/tmp/locomo_variants")
    args = ap.parse_args()
    spec, cache, path = StrategySpec.parse(args.strategy), Path(args.cache), Path(args.file)
    rows = pools(path, args.convs.split(","), spec, cache)
    convs = sorted({r["conv"] for r in rows})
    held_out = []
    for conv in convs:
        weights = fit([r for r in rows if r["conv"] != conv])
        part = [r for r in rows if r["conv"] == conv]
        held_out += [recall(r, weights) for r in part]
        print(f"{conv}: rules {statistics.fmean(recall(r, None) for r in part):.3f}  "
              f"learned (fit without it) {statistics.fmean(recall(r, weights) for r in part):.3f}")
    weights = fit(rows)
    shipped = f"  shipped WEIGHTS {statistics.fmean(recall(r, WEIGHTS) for r in rows):.3f}" if WEIGHTS else ""
    print(f"all: rules {statistics.fmean(recall(r, None) for r in rows):.3f}  learned, leave one conversation out "
          f"{statistics.fmean(held_out):.3f}  in sample {statistics.fmean(recall(r, weights) for r in rows):.3f}"
          + shipped)
    print("WEIGHTS = " + json.dumps(weights, indent=4))
    if args.score:
        scored = pools(path, args.score.split(","), spec, cache)
        print(f"scored on {args.score}: rules {statistics.fmean(recall(r, None) for r in scored):.3f}  "
              f"learned {statistics.fmean(recall(r, weights) for r in scored):.3f}")


if __name__ == "__main__":
    main()
