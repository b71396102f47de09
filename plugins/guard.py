"""guard: A-MemGuard-style protection around another strategy.

A-MemGuard (2025) defends agent memory against poisoning: a memory that reads like an
instruction to the agent, or that contradicts the consensus of related memories, is kept
apart instead of being used, and the agent keeps "lessons" from what it blocked.

Here the guard wraps an inner strategy (mem0 by default) and checks every memory it
proposes. Instruction-like text (memcli.strategy.guard_rules: override, exfiltration,
role-play, persistence cues) is stored *quarantined*: it is never indexed, so never
retrieved into the model's context, until the person restores it (the TUI shows it with ⚠).
An update that would overturn a fact stated at least `consensus` times is quarantined as a
new claim instead of replacing the fact. Each block also stores a lesson (kind "lesson"),
which retrieval never returns. Rules only: no model call.
"""

from __future__ import annotations

from memcli.strategy import Param, Retrieval, Strategy, ops
from memcli.strategy.guard_rules import instruction_score
from memcli.strategy.registry import StrategyRegistry


class Guard(Strategy):
    name = "guard"
    description = "Quarantines memories that read like instructions or overturn a consensus; wraps another strategy."
    paper = "A-MemGuard (2025): a proactive defense framework for LLM-based agent memory"
    params = (
        Param("inner", str, "mem0", "The strategy whose memories are guarded.",
              choices=("mem0", "rag-turns", "memorybank", "longmemeval", "tim", "hema")),
        Param("consensus", int, 3, "Sources that make a fact a consensus an update may not overturn silently.",
              min=2, max=100),
    )

    def __init__(self, **values) -> None:
        super().__init__(**values)
        self.inner = StrategyRegistry().create(self.p["inner"])

    def index_options(self):
        return self.inner.index_options()

    def extract(self, turn, view):
        return self.inner.extract(turn, view)

    def decay(self, view):
        return self.inner.decay(view)

    def recalled(self, retrieval, view):
        return self.inner.recalled(retrieval, view)

    def build_context(self, retrieval, history, user, **kwargs):
        return self.inner.build_context(retrieval, history, user, **kwargs)

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for op in self.inner.consolidate(candidates, view):
            if isinstance(op, ops.Add):
                verdict = instruction_score(op.text)
                if verdict.flagged:
                    reason = f"reads like an instruction to the assistant ({', '.join(verdict.cues)})"
                    out.append(ops.Add(text=op.text, kind=op.kind, importance=op.importance, sources=op.sources,
                                       metadata=dict(op.metadata), reason=op.reason, quarantine=reason,
                                       scores={"instruction": verdict.score}))
                    out.append(self._lesson(reason, op.sources))
                    continue
            elif isinstance(op, ops.Update):
                current = view.get(op.memory_id)
                verdict = instruction_score(op.text)
                contested = current is not None and len(current.sources) >= self.p["consensus"]
                if verdict.flagged or contested:
                    reason = (f"reads like an instruction to the assistant ({', '.join(verdict.cues)})"
                              if verdict.flagged else
                              f"contradicts a fact stated {len(current.sources)} times: {current.text}")
                    out.append(ops.Add(text=op.text, kind="claim", sources=op.sources, metadata=dict(op.metadata),
                                       quarantine=reason, reason=op.reason,
                                       scores={"instruction": verdict.score}))
                    out.append(self._lesson(reason, op.sources))
                    continue
            out.append(op)
        return out

    @staticmethod
    def _lesson(reason: str, sources) -> ops.Add:
        return ops.Add(text=f"Lesson: a memory was quarantined because it {reason.split(' (')[0]}.", kind="lesson",
                       importance=0.2, sources=sources, metadata={"role": "lesson"}, reason="A-MemGuard lesson")

    def retrieve(self, query, view, k):
        found = self.inner.retrieve(query, view, k + 3)
        lessons = {m.id for m in view.with_metadata("role", "lesson")}
        hits = [h for h in found.hits if h.memory_id not in lessons]
        return Retrieval(hits[:k], near_misses=hits[k:] + found.near_misses, cutoff=found.cutoff,
                         note=(found.note + " · " if found.note else "") + "quarantined memories and lessons excluded")
