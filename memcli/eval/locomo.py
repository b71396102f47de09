"""LoCoMo evidence recall: how often a strategy's retrieved memories lead back to the turns
that hold the answer.

For each conversation a fresh data dir: every session is ingested in order on a simulated
clock set to the session's date, speakers kept. The first strategy processes the turns live;
the others are backfilled from the logged conversation (which gives the same memories as
live use; tests/test_plugins.py checks it). Then, for each question of categories 1-4 with
evidence, the strategy retrieves; its ranked memories are expanded to the turn ids they came
from (provenance), de-duplicated, and cut at k. recall@k = |evidence ∩ kept| / |evidence|.
With a QA model, the model also answers from the memories retrieved at one k (each line
dated by its first source turn), scored by token F1 (memcli.eval.qa).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

from memcli.clock import SimulatedClock
from memcli.context import memory_block
from memcli.core.events import Kind
from memcli.embed.embedder import Embedder
from memcli.eval import qa
from memcli.replay.importers import Conversation
from memcli.chat import ingest_conversation, open_chat
from memcli.settings import Settings
from memcli.strategy.registry import StrategyRegistry

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


@dataclass(frozen=True)
class StrategySpec:
    """A strategy to evaluate: `rag-turns` or a variant such as `rag-turns:mode=vector`."""

    label: str
    name: str
    params: dict

    @classmethod
    def parse(cls, text: str) -> "StrategySpec":
        name, _, rest = text.partition(":")
        params = dict(p.split("=", 1) for p in rest.split(";") if "=" in p) if rest else {}
        return cls(text, name.strip(), params)


@dataclass
class QuestionResult:
    conversation: str
    question: str
    category: int
    evidence: list[str]
    ranked_turns: list[str]
    recall: dict[int, float]
    context_tokens: dict[int, int]
    latency_s: float
    answer: str = ""
    prediction: str | None = None  # the QA model's answer (None: no --qa)
    f1: float | None = None


@dataclass
class StrategyResult:
    strategy: str
    questions: list[QuestionResult] = field(default_factory=list)
    ingest_seconds: float = 0.0
    turns: int = 0
    memories: int = 0
    conversations: int = 0

    def recall(self, k: int, category: int | None = None) -> float:
        rows = [q.recall[k] for q in self.questions if category in (None, q.category)]
        return statistics.fmean(rows) if rows else float("nan")

    def f1(self, category: int | None = None) -> float:
        rows = [q.f1 for q in self.questions if q.f1 is not None and category in (None, q.category)]
        return statistics.fmean(rows) if rows else float("nan")

    def tokens(self, k: int) -> float:
        return statistics.fmean(q.context_tokens[k] for q in self.questions) if self.questions else 0.0

    def latency_ms(self, pct: int) -> float:
        xs = sorted(q.latency_s * 1000 for q in self.questions)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, round(pct / 100 * (len(xs) - 1)))]

    def summary(self, ks: list[int]) -> dict:
        return {
            "strategy": self.strategy, "questions": len(self.questions), "conversations": self.conversations,
            "recall": {str(k): round(self.recall(k), 4) for k in ks},
            "recall_by_category": {CATEGORIES[c]: {str(k): round(self.recall(k, c), 4) for k in ks}
                                   for c in sorted({q.category for q in self.questions})},
            "context_tokens": {str(k): round(self.tokens(k), 1) for k in ks},
            "latency_ms": {"p50": round(self.latency_ms(50), 2), "p95": round(self.latency_ms(95), 2)},
            "ingest_turns_per_s": round(self.turns / self.ingest_seconds, 1) if self.ingest_seconds else None,
            "ingest_seconds": round(self.ingest_seconds, 2), "memories": self.memories,
        } | ({"qa_f1": self._f1_summary()} if any(q.f1 is not None for q in self.questions) else {})

    def _f1_summary(self) -> dict[str, float]:
        return {"all": round(self.f1(), 4)} | {CATEGORIES[c]: round(self.f1(c), 4)
                                               for c in sorted({q.category for q in self.questions})}


def expand(hits, seq_to_turn: dict[int, str], k: int) -> list[str]:
    """Ranked memories → their source turn ids, in rank order, de-duplicated, the first k."""
    out: list[str] = []
    for hit in hits:
        for seq in sorted(hit.sources):
            turn = seq_to_turn.get(seq)
            if turn is not None and turn not in out:
                out.append(turn)
                if len(out) == k:
                    return out
    return out


def evaluate(
    conversations: list[Conversation],
    strategies: list[StrategySpec],
    settings: Settings,
    *,
    ks: list[int],
    embedder: Embedder,
    count_tokens: Callable[[str], int],
    registry: StrategyRegistry | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    qa_model=None,
    qa_k: int | None = None,
) -> dict[str, StrategyResult]:
    """`qa_model` (a ChatModel): also answer each question from the memories retrieved at `qa_k`
    (one of `ks`; default the middle one)."""
    qa_k = ks[len(ks) // 2] if qa_k is None else qa_k
    if qa_k not in ks:
        raise ValueError(f"the QA cut-off {qa_k} is not one of the cut-offs {ks}")
    registry = registry or StrategyRegistry()
    results = {spec.label: StrategyResult(spec.label) for spec in strategies}
    for conv in conversations:
        clock = SimulatedClock(conv.sessions[0].date if conv.sessions else None)
        first = strategies[0]
        with tempfile.TemporaryDirectory(prefix="memcli-eval-") as tmp, \
                open_chat(settings.model_copy(update={"data_dir": Path(tmp)}), strategy=first.name,
                          params=first.params, clock=clock, embedder=embedder, registry=registry,
                          background=False) as chat:
            engine = chat.engine
            chat.strategy.namespace = first.label
            chat.activate(chat.strategy)
            started = time.perf_counter()
            with engine.batch():
                ingest_conversation(chat, conv, clock, progress=(
                    lambda done: progress(f"{conv.id} ingest {first.label}", done, conv.turn_count))
                    if progress is not None else None)
            results[first.label].ingest_seconds += time.perf_counter() - started
            for spec in strategies[1:]:
                started = time.perf_counter()
                chat.backfill(spec.name, spec.params, k=settings.top_k, namespace=spec.label,
                                 progress=(lambda i, n, lb=spec.label: progress(f"{conv.id} backfill {lb}", i, n))
                                 if progress else None)
                results[spec.label].ingest_seconds += time.perf_counter() - started
            messages = engine.store.events(kinds=[Kind.MESSAGE_USER, Kind.MESSAGE_ASSISTANT])
            seq_to_turn = {e.seq: e.payload.get("metadata", {}).get("turn_id") for e in messages}
            seq_to_date = {e.seq: e.ts.strftime("%-d %B %Y") for e in messages}
            questions = [q for q in conv.questions if q.category in CATEGORIES and q.evidence]
            now = clock.now() + timedelta(days=1)
            for spec in strategies:
                strategy = chat.activate(registry.create(spec.name, spec.params, namespace=spec.label))
                view = chat.view(strategy, now=now)
                result = results[spec.label]
                result.turns += conv.turn_count
                result.conversations += 1
                result.memories += len(engine.store.memories(spec.label))
                for i, q in enumerate(questions, 1):
                    evidence = set(q.evidence)
                    recall, tokens, latency, used = {}, {}, 0.0, {}
                    for k in ks:  # each cut-off is its own retrieval: a fused ranking depends on depth
                        t0 = time.perf_counter()
                        retrieval = strategy.retrieve(q.question, view, k)
                        latency = time.perf_counter() - t0  # the last (deepest) one is reported
                        used[k] = _hits_for(retrieval.hits, seq_to_turn, k)
                        ranked = expand(retrieval.hits, seq_to_turn, k)
                        recall[k] = len(evidence & set(ranked)) / len(evidence)
                        tokens[k] = count_tokens(memory_block([h.text for h in used[k]]))
                    row = QuestionResult(conv.id, q.question, q.category, q.evidence, ranked, recall, tokens, latency,
                                         answer=q.answer)
                    if qa_model is not None:
                        row.prediction = qa.answer(qa_model, [_dated(h, seq_to_date) for h in used[qa_k]],
                                                   q.question)
                        row.f1 = qa.score(row.prediction, q.answer, q.category)
                    result.questions.append(row)
                    if progress is not None:
                        progress(f"{conv.id} questions {spec.label}", i, len(questions))
    return results


def _dated(hit, seq_to_date: dict[int, str]) -> str:
    """A memory's text after the date of its first source turn ("[8 May 2023] Ana: …")."""
    date = seq_to_date.get(min(hit.sources, default=-1))
    return f"[{date}] {hit.text}" if date else hit.text


def _hits_for(hits, seq_to_turn: dict[int, str], k: int) -> list:
    """The memories needed to cover the first k turn ids (what the strategy would send)."""
    covered: list[str] = []
    needed = []
    for hit in hits:
        if len(covered) >= k:
            break
        needed.append(hit)
        for seq in hit.sources:
            turn = seq_to_turn.get(seq)
            if turn is not None and turn not in covered:
                covered.append(turn)
    return needed
