"""What the guard adds to a turn: its rules, its intent embedding, its consensus searches, the secret detector.

Over the last turns of the guard development cases (tests/fixtures/guard_eval): `judge` with rules only
(normalisation, cue families, language identification), one embedding of the message (the intent
signal; the seven intent vectors are embedded once), one vector search (consensus: one per sentence of
a steering turn, one otherwise), and the secret detector (`Redactor.redact`). Then the whole turn, the
same conversations through `guard` and through its inner `mem0`, p50 per turn.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _common import percentiles, save, timed  # noqa: E402

from memcli.clock import SimulatedClock  # noqa: E402
from memcli.core.privacy import Redactor  # noqa: E402
from memcli.embed.onnx_embedder import OnnxEmbedder  # noqa: E402
from memcli.engine import Engine  # noqa: E402
from memcli.chat import Chat  # noqa: E402
from memcli.settings import load_settings  # noqa: E402
from memcli.strategy.guard_rules import judge  # noqa: E402
from memcli.strategy.registry import StrategyRegistry  # noqa: E402

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "guard_eval"


def main() -> None:
    cases = [c for split in ("seen", "unseen") for kind in ("attacks", "benign")
             for c in yaml.safe_load((FIXTURES / f"{split}.yaml").read_text())[kind]]
    texts = [c["turns"][-1] for c in cases]
    judge(texts[0])  # loads the language model once (~1 s), as the first turn of a session does
    rules = [t for text in texts for t in timed(lambda text=text: judge(text), 1)]
    redact = [t for text in texts for t in timed(lambda text=text: Redactor().redact(text), 1)]
    embedder = OnnxEmbedder(Path.home() / ".cache" / "memcli-bench-embedder")
    embedder.load()
    embed = [t for text in texts[:80] for t in timed(lambda text=text: embedder.embed([text]), 1)]
    out = {"judge_rules": percentiles(rules), "redact": percentiles(redact), "embed_one": percentiles(embed)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
        s = Chat(engine, StrategyRegistry(Path(tmp) / "x"), model=None, strategy="mem0", background=False)
        try:
            for name in ("mem0", "guard"):
                turns = []
                for c in cases[:60]:
                    s.strategy = s.registry.create(name, namespace=f"{name}_{c['id']}")
                    for text in c["turns"]:
                        turns += timed(lambda text=text: s.send(text, reply="ok"), 1)
                out[f"turn_{name}"] = percentiles(turns)
            out["search_one"] = percentiles(timed(lambda: engine.search(s.namespace, texts[0], k=8, mode="vector"),
                                                  50))
        finally:
            s.close()
            engine.close()
    for key, value in out.items():
        print(f"{key:14} p50 {value['p50_ms']:8.2f} ms   p95 {value['p95_ms']:8.2f} ms   (n={value['n']})")
    print("results:", save("guard", out))


if __name__ == "__main__":
    main()
