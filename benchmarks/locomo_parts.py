"""Recall per part of a split, per strategy, from an `eval locomo --details --json` file.

docs/benchmarks.md splits the LoCoMo dev split into a part tuned on and a part only checked;
this prints one markdown row per strategy and part (recall@5/10/20, per category @10, tokens@10).

    python benchmarks/locomo_parts.py results.json [--part tune=conv-26,conv-30,conv-41 --part check=conv-42,conv-43]
"""

from __future__ import annotations

import argparse
import json
import statistics

from memcli.eval.locomo import CATEGORIES

SPLIT = {"tune": "conv-26,conv-30,conv-41", "check": "conv-42,conv-43"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--part", action="append", help="NAME=ID,ID (default: the split in docs/benchmarks.md)")
    args = ap.parse_args()
    parts = dict(p.split("=", 1) for p in args.part) if args.part else SPLIT
    data = json.loads(open(args.file).read())
    print("| strategy | part | @5 | @10 | @20 | " + " | ".join(f"{c}@10" for c in CATEGORIES.values()) + " | tokens@10 |")
    print("|---" * (6 + len(CATEGORIES)) + "|")
    for s in data["strategies"]:
        for part, ids in parts.items():
            questions = [q for q in data["questions"][s["strategy"]] if q["conversation"] in ids.split(",")]
            if questions:
                print(f"| `{s['strategy']}` | {part} | " + " | ".join(_cells(questions)) + " |")


def _cells(questions: list[dict]) -> list[str]:
    def mean(selected: list[dict], k: str) -> str:
        return f"{statistics.fmean(q['recall'][k] for q in selected):.3f}" if selected else "—"

    by_category = [mean([q for q in questions if q["category"] == c], "10") for c in CATEGORIES]
    tokens = statistics.fmean(q["context_tokens"]["10"] for q in questions)
    return [mean(questions, "5"), f"**{mean(questions, '10')}**", mean(questions, "20"), *by_category, f"{tokens:.0f}"]


if __name__ == "__main__":
    main()
