"""Would dynamic int8 quantisation of the ONNX embedder keep LoCoMo recall? (the rule: recall@10
may move by at most 0.005 on every strategy, or fp32 stays the default).

Quantises the fp32 export with onnxruntime's `quantize_dynamic` (QInt8 weights), then runs the
serial harness with it on a LoCoMo file and prints recall@5/10/20 per strategy, to hold
against the same strategies' fp32 run (`memcli eval locomo … --json`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import save  # noqa: E402

from memcli.embed.onnx_embedder import OnnxEmbedder  # noqa: E402
from memcli.eval.locomo import StrategySpec, evaluate  # noqa: E402
from memcli.replay.importers import read_locomo  # noqa: E402
from memcli.settings import load_settings  # noqa: E402


class Int8Embedder(OnnxEmbedder):
    """The fp32 export, quantised to int8 on load (benchmark only)."""

    def load(self) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        super().load()
        int8 = self.cache_dir / "int8.onnx"
        if not int8.exists():
            quantize_dynamic(str(self._path), str(int8), weight_type=QuantType.QInt8)
        self._path, self._sessions, self.model_id = int8, {}, self.model_id + "-int8"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("locomo", type=Path)
    ap.add_argument("-S", "--strategies", default="rag-turns:mode=vector,rag-turns:analyzer=plain")
    ap.add_argument("--fp32-json", type=Path, help="the fp32 run's --json, to print the differences")
    args = ap.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="memcli-int8-"))
    fp32, int8 = OnnxEmbedder(cache), Int8Embedder(cache)
    probe = [q.question for q in read_locomo(args.locomo)[0].questions[:200]]
    a, b = fp32.embed(probe), int8.embed(probe)
    out: dict = {"mean_cosine_int8_fp32": round(float((a * b).sum(axis=1).mean()), 4),
                 "min_cosine_int8_fp32": round(float(np.min((a * b).sum(axis=1))), 4)}
    specs = [StrategySpec.parse(s) for s in args.strategies.split(",")]
    ks = [5, 10, 20]
    with tempfile.TemporaryDirectory() as tmp:
        results = evaluate(read_locomo(args.locomo), specs, load_settings(data_dir=Path(tmp)), ks=ks,
                           embedder=int8, count_tokens=lambda s: len(s.split()))
    reference = {s["strategy"]: s["recall"] for s in json.loads(args.fp32_json.read_text())["strategies"]} \
        if args.fp32_json else {}
    for label, result in results.items():
        recall = {str(k): round(result.recall(k), 4) for k in ks}
        out[label] = {"int8": recall} | ({"fp32": reference[label],
                                          "delta@10": round(recall["10"] - reference[label]["10"], 4)}
                                         if label in reference else {})
    print(json.dumps(out, indent=2))
    print(f"saved {save('int8', out)}")


if __name__ == "__main__":
    main()
