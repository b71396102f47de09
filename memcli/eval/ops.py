"""Operation-level evaluation (HaluMem-style): where a strategy's memory goes wrong.

For each annotated conversation and strategy: a fresh data dir, the messages ingested in
order on a simulated clock (speakers kept), then what the strategy stored is compared with
the annotations.

- Extraction: recall = memory points (facts and updates) matched by some text a memory ever
  had; precision = memories that match some point. A memory matches a point when their
  embedding cosine is at least `threshold` and the memory contains every word the point
  lists in `must` (embeddings alone do not tell "lives in Lisbon" from "lives in Porto");
  with a `Judge` (memcli.eval.ops_judge) the model decides each candidate pair instead, and
  each result says which matcher produced it. The judge matches points (recall, precision,
  false memories, updates); fabrication and QA are never judged.
- Fabrication: a memory is fabricated when no message supports it: under half of its
  content words occur in the conversation and no message is within `threshold` of it.
- False memory resistance: 1 - the share of `forbid` points (secrets, distractors) that a
  memory matched, at any time (once stored, it was at rest).
- Updating: an update is correct when an active memory matches the new point and no other
  active memory matches the point it replaces; a conflict when another one does; omitted when the new one
  is not active. Only the last update of a chain is checked.
- QA: the strategy retrieves the top k memories for each question; correct when every
  (normalised, stemmed) answer token is in them.

Every miss, fabrication, stored forbidden point, failed update and wrong answer is a
`Finding` with the memory, its provenance (the messages it came from) and the point.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from memcli.clock import SimulatedClock
from memcli.embed.embedder import Embedder
from memcli.eval.locomo import StrategySpec
from memcli.eval.ops_data import OpsConversation, Point
from memcli.eval.ops_judge import Judge, Verdict, rule_match
from memcli.eval.qa import normalize_answer
from memcli.chat import Chat, open_chat
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry
from memcli.strategy.text import content_words

THRESHOLD = 0.55  # see docs/benchmarks.md, "Operation-level evaluation": chosen from measured cosines
INTERNAL_KINDS = ("state",)  # a strategy's own bookkeeping (rmm's reranker weights): not a memory of the user


@dataclass
class Finding:
    strategy: str
    conversation: str
    kind: str  # missed | fabricated | forbidden | update-omitted | update-conflict | qa-wrong
    expected: str  # the point (or question → answer)
    memory: str = ""
    memory_id: str = ""
    provenance: list[str] = field(default_factory=list)  # the messages the memory came from
    similarity: float | None = None


@dataclass
class OpsResult:
    strategy: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((
        "points", "recalled", "memories", "matched", "fabricated", "forbid", "forbidden_stored", "updates",
        "updates_correct", "updates_conflict", "updates_omitted", "questions", "answered"), 0))
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    matcher: str = "embedding"  # what matched points to memories: "embedding" or the judge's label
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)  # the judge's, for this strategy

    def matcher_line(self) -> str:
        """Which matcher produced the point-matching figures: "embedding", or the judge and its fallbacks."""
        if self.matcher == "embedding":
            return "embedding"
        fallbacks = sum(v.by == "rule" for v in self.verdicts.values())
        return f"LLM judge, {len(self.verdicts)} pairs" + (f" ({fallbacks} by the rule: bad JSON)" if fallbacks else "")

    @staticmethod
    def _rate(num: int, den: int) -> float:
        return num / den if den else float("nan")

    def metrics(self) -> dict[str, float]:
        c = self.counts
        return {
            "recall": self._rate(c["recalled"], c["points"]),
            "precision": self._rate(c["matched"], c["memories"]),
            "fabrication": self._rate(c["fabricated"], c["memories"]),
            "false_memory_resistance": 1 - self._rate(c["forbidden_stored"], c["forbid"]),
            "update_accuracy": self._rate(c["updates_correct"], c["updates"]),
            "update_conflict": self._rate(c["updates_conflict"], c["updates"]),
            "update_omission": self._rate(c["updates_omitted"], c["updates"]),
            "qa_accuracy": self._rate(c["answered"], c["questions"]),
        }

    def summary(self, details: bool = False) -> dict[str, Any]:
        out = {"strategy": self.strategy, **{k: round(v, 4) for k, v in self.metrics().items()},
               "counts": dict(self.counts), "seconds": round(self.seconds, 2), "matcher": self.matcher,
               "judged_pairs": len(self.verdicts),
               "judge_fallbacks": sum(v.by == "rule" for v in self.verdicts.values())}
        if details:
            out["findings"] = [asdict(f) for f in self.findings]
            out["verdicts"] = [asdict(v) for v in self.verdicts.values()]
        return out


def _answer_found(answer: str, texts: list[str]) -> bool:
    wanted = set(normalize_answer(answer).split())
    have = set(normalize_answer(" ".join(texts)).split())
    return bool(wanted) and wanted <= have


def _ingest(conv: OpsConversation, chat: Chat, clock: SimulatedClock) -> list[int]:
    """Log every message at its time; returns the seq of each message (for provenance)."""
    seqs = []
    with chat.engine.batch():
        for m in conv.messages:
            if m.ts > clock.now():
                clock.set(m.ts)
            seqs.append(chat.ingest(m.role, m.text, speaker=m.speaker).seq)
    return seqs


class _Scorer:
    """Embeddings of one conversation's points, messages and memory texts, and the comparisons."""

    def __init__(self, embedder: Embedder, conv: OpsConversation, threshold: float, judge: Judge | None = None) -> None:
        self.embedder, self.conv, self.threshold, self.judge = embedder, conv, threshold, judge
        self.result: OpsResult | None = None  # whose figures the judge's verdicts go into
        self._cache: dict[str, Any] = {}
        self.words = {w for m in conv.messages for w in content_words(m.text)}

    def vectors(self, texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for t, v in zip(missing, self.embedder.embed(missing)):
                self._cache[t] = v
        import numpy as np

        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))

    def similarity(self, a: list[str], b: list[str]):
        return self.vectors(a) @ self.vectors(b).T

    def nearest(self, text: str, texts: list[str]) -> tuple[int, float]:
        """The most similar of `texts` (index, cosine); (-1, 0.0) when there is none."""
        if not texts:
            return -1, 0.0
        sims = self.similarity([text], texts)[0]
        return int(sims.argmax()), float(sims.max())

    def best(self, point: Point, texts: list[str]) -> tuple[int, float]:
        """The text that matches `point` best (index, cosine); (-1, best cosine) when none matches."""
        if not texts:
            return -1, 0.0
        sims = self.similarity([point.text], texts)[0]
        if self.judge is None:
            ok = [i for i, t in enumerate(texts) if rule_match(point, t, float(sims[i]), self.threshold)]
        else:
            ok = self._judged(point, texts, sims)
        if ok:
            i = max(ok, key=lambda j: sims[j])
            return i, float(sims[i])
        return -1, float(sims.max())

    def _judged(self, point: Point, texts: list[str], sims) -> list[int]:
        """The candidates (nearest texts by cosine, at least the judge's floor) that the judge accepts."""
        judge = self.judge
        assert judge is not None  # only called with a judge
        order = sorted((i for i, t in enumerate(texts) if t and sims[i] >= judge.floor), key=lambda i: -sims[i])
        seen: dict[str, int] = {}
        for i in order:  # one candidate per distinct text
            seen.setdefault(texts[i], i)
        ok = []
        for text, i in list(seen.items())[: judge.candidates]:
            verdict = judge(point, text, float(sims[i]), self.threshold)
            if self.result is not None:
                self.result.verdicts[(verdict.point, verdict.memory)] = verdict
            if verdict.match:
                ok.append(i)
        return ok

    def supported(self, text: str) -> bool:
        words = content_words(text)
        if words and sum(w in self.words for w in words) / len(words) >= 0.5:
            return True
        messages = [m.text for m in self.conv.messages]
        return bool(messages) and float(self.similarity([text], messages)[0].max()) >= self.threshold


def _score(conv: OpsConversation, chat: Chat, seqs: list[int], scorer: _Scorer, result: OpsResult,
           k: int) -> None:
    ns = chat.namespace
    store = chat.engine.store
    memories = [m for m in store.memories(ns, None) if m.kind not in INTERNAL_KINDS]
    versions = {m.id: [v.text for v in store.versions(ns, m.id)] or [m.text] for m in memories}
    ever = [(m, t) for m in memories for t in versions[m.id]]
    active = [m for m in memories if m.status == "active"]
    by_seq = {s: conv.messages[i] for i, s in enumerate(seqs)}

    def finding(kind: str, expected: str, memory=None, similarity: float | None = None) -> None:
        prov = [f"{by_seq[s].speaker or by_seq[s].role}: {by_seq[s].text}" for s in (memory.sources if memory else [])
                if s in by_seq]
        result.findings.append(Finding(result.strategy, conv.id, kind, expected, memory.text if memory else "",
                                       memory.id if memory else "", prov,
                                       round(similarity, 4) if similarity is not None else None))

    c = result.counts
    targets = conv.points_of("fact", "update")
    for p in targets:
        c["points"] += 1
        i, sim = scorer.best(p, [t for _, t in ever])
        if i >= 0:
            c["recalled"] += 1
        else:
            j, _ = scorer.nearest(p.text, [t for _, t in ever])
            finding("missed", p.text, ever[j][0] if j >= 0 else None, sim)
    for m in memories:
        c["memories"] += 1
        if any(scorer.best(p, versions[m.id])[0] >= 0 for p in targets):
            c["matched"] += 1
        if not scorer.supported(m.text):
            c["fabricated"] += 1
            finding("fabricated", "", m)
    for p in conv.points_of("forbid"):
        c["forbid"] += 1
        i, sim = scorer.best(p, [t for _, t in ever])
        if i >= 0:
            c["forbidden_stored"] += 1
            finding("forbidden", p.text, ever[i][0], sim)
    by_text = {p.text: p for p in conv.points}
    superseded = {old for p in conv.points_of("update") for old in p.replaces}
    for p in conv.points_of("update"):
        if p.text in superseded:
            continue
        c["updates"] += 1
        texts = [m.text for m in active]
        new, sim = scorer.best(p, texts)
        # the old value still held by another memory (one memory saying "moved from Lisbon to Porto" is updated)
        others = [t if i != new else "" for i, t in enumerate(texts)]
        stale = [scorer.best(by_text.get(old, Point(old, "fact", p.message)), others) for old in p.replaces]
        old = next((i for i, _ in stale if i >= 0), -1)
        if new >= 0 and old < 0:
            c["updates_correct"] += 1
        elif new >= 0:
            c["updates_conflict"] += 1
            finding("update-conflict", f"{p.text} (replaces: {'; '.join(p.replaces)})", active[old])
        else:
            c["updates_omitted"] += 1
            finding("update-omitted", f"{p.text} (replaces: {'; '.join(p.replaces)})",
                    active[old] if old >= 0 else None, sim)
    view = chat.view()
    for q in conv.questions:
        c["questions"] += 1
        hits = chat.strategy.retrieve(q.question, view, k).hits
        if _answer_found(q.answer, [h.text for h in hits]):
            c["answered"] += 1
        else:
            top = store.memory(ns, hits[0].memory_id) if hits else None
            finding("qa-wrong", f"{q.question} → {q.answer}", top)


def evaluate(
    conversations: list[OpsConversation],
    strategies: list[StrategySpec],
    settings: Settings,
    *,
    embedder: Embedder,
    k: int = 5,
    threshold: float = THRESHOLD,
    registry: StrategyRegistry | None = None,
    model=None,
    progress: Callable[[str, int, int], None] | None = None,
    judge: Judge | None = None,
) -> dict[str, OpsResult]:
    """`model`: the chat model strategies may use for memory work (None: their rule paths); `judge`: the
    LLM judge that matches points to memories (None: embedding similarity)."""
    import time

    registry = registry or StrategyRegistry()
    results = {s.label: OpsResult(s.label, matcher=judge.label if judge else "embedding") for s in strategies}
    total = len(conversations) * len(strategies)
    done = 0
    for conv in conversations:
        scorer = _Scorer(embedder, conv, threshold, judge)
        for spec in strategies:
            started = time.perf_counter()
            scorer.result = results[spec.label]
            with tempfile.TemporaryDirectory(prefix="memcli-ops-") as tmp:
                clock = SimulatedClock(conv.messages[0].ts if conv.messages else None)
                with open_chat(settings.model_copy(update={"data_dir": Path(tmp)}), strategy=spec.name,
                               params=spec.params, model=model, clock=clock, embedder=embedder, registry=registry,
                               background=False) as chat:
                    seqs = _ingest(conv, chat, clock)
                    _score(conv, chat, seqs, scorer, results[spec.label], k)
            results[spec.label].seconds += time.perf_counter() - started
            done += 1
            if progress is not None:
                progress(f"{conv.id} {spec.label}", done, total)
    return results

