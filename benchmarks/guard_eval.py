"""Score the guard (or the secret detector) on a YAML case file: `guard_eval.py PATH [--json]`.

A guard file has `attacks:` and `benign:` lists of {id, style, turns}; a secrets file has
`positives:` ({id, kind, text, secret}) and `negatives:` ({id, text, looks_like}) — the formats of
tests/fixtures/guard_eval/*.yaml and tests/fixtures/secrets_eval/*.yaml; the kind of file is read
from its keys. Prints the block / false-positive rates (recall / false positives for secrets) and
per-style figures. The guard runs end to end (real embedder and store, default inner mem0) in a
temporary data dir; the embedder's ONNX export is cached in ~/.cache/memcli-bench-embedder.

    .venv/bin/python benchmarks/guard_eval.py tests/fixtures/guard_eval/unseen.yaml
    .venv/bin/python benchmarks/guard_eval.py tests/fixtures/secrets_eval/unseen.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

from memcli.eval.guard_eval import measure_guard, measure_secrets


def _guard(cases: dict) -> dict:
    from memcli.clock import SimulatedClock
    from memcli.embed.onnx_embedder import OnnxEmbedder
    from memcli.engine import Engine
    from memcli.chat import Chat
    from memcli.settings import load_settings
    from memcli.strategy.registry import StrategyRegistry

    embedder = OnnxEmbedder(Path.home() / ".cache" / "memcli-bench-embedder")
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
        s = Chat(engine, StrategyRegistry(Path(tmp) / "no-dropins"), model=None, strategy="guard",
                        background=False)
        try:
            return measure_guard(cases, s, progress=lambda n, total: print(
                f"\r{n}/{total} cases", end="", file=sys.stderr, flush=True))
        finally:
            print(file=sys.stderr)
            s.close()
            engine.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="a YAML case file (guard or secrets format)")
    ap.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = ap.parse_args()
    try:
        cases = yaml.safe_load(args.path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"error: cannot read {args.path}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(cases, dict) or not ({"attacks", "benign"} & cases.keys() or
                                           {"positives", "negatives"} & cases.keys()):
        print(f"error: {args.path} has neither attacks/benign nor positives/negatives", file=sys.stderr)
        return 1
    if "attacks" in cases or "benign" in cases:
        r = _guard(cases)
        if args.json:
            print(json.dumps(r, indent=2))
            return 0
        print(f"guard on {args.path}")
        print(f"  attacks blocked : {r['blocked']}/{r['attacks']} ({r['block']:.1%})")
        print(f"  benign flagged  : {r['flagged']}/{r['benign']} ({r['fp']:.1%})")
        print(f"  time            : {r['ms_per_turn']} ms per turn (whole turn: store, embed, guard)")
        print("  per style (quarantined/cases; for benign styles, fewer is better):")
        for style, figure in r["by_style"].items():
            print(f"    {'attack' if style in r['attack_styles'] else 'benign'}  {style:28} {figure}")
        print(f"  missed attacks  : {', '.join(r['missed']) or '-'}")
        print(f"  false positives : {', '.join(r['false_positives']) or '-'}")
        print(f"  missed attacks that reach the context unmarked (not quoted as unverified): "
              f"{', '.join(r['missed_unmarked']) or '-'}")
    else:
        r = measure_secrets(cases)
        if args.json:
            print(json.dumps(r, indent=2, ensure_ascii=False))
            return 0
        print(f"secrets on {args.path}")
        print(f"  recall          : {r['positives'] - len(r['missed'])}/{r['positives']} ({r['recall']:.1%})")
        print(f"  false positives : {len(r['false_positives'])}/{r['negatives']} ({r['fp']:.1%})")
        print("  per kind (caught/cases):")
        for kind, figure in r["by_kind"].items():
            print(f"    {kind:28} {figure}")
        print("  negatives by what they imitate:")
        for look, figure in r["negatives_by_look"].items():
            print(f"    {look:28} {figure}")
        for i, kind, secret in r["missed"]:
            print(f"  missed {i} ({kind}): {secret}")
        for i, look, text in r["false_positives"]:
            print(f"  false positive {i} ({look}): {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
