"""longmemeval: round-level values, fact-augmented keys, time-aware query expansion.

LongMemEval (Wu et al., 2024) finds three design choices that help long-term memory:
store values at round granularity (a user turn with the reply that follows), expand
each value's *key* with facts and keyphrases extracted from it (key = value + facts),
and expand time-bound questions into a time range that prunes the candidates.

Non-LLM path: facts (rules) and RAKE keyphrases augment the key, the session date is in
the key, `memcli.strategy.text.time_range` reads "last Tuesday", "two weeks ago", "in May
2023" from the question. LLM path: the model lists the facts of a round (schema).
"""

from __future__ import annotations

from datetime import datetime

from memcli.model.base import StructuredOutputError
from memcli.strategy import Candidate, Param, Retrieval, Strategy
from memcli.strategy.text import facts, keyphrases, time_range

FACTS_SCHEMA = {"type": "object", "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
                "required": ["facts"]}


class LongMemEval(Strategy):
    name = "longmemeval"
    description = "Round-level values, keys augmented with facts and keyphrases, time-aware query expansion."
    paper = "LongMemEval (Wu et al., 2024): Benchmarking chat assistants on long-term interactive memory"
    params = (
        Param("granularity", str, "turn", "Value unit: a single turn or a round (user turn + reply).",
              choices=("turn", "round")),
        Param("keyphrases", int, 5, "Keyphrases added to each key.", min=0, max=20),
        Param("time_aware", bool, True, "Prune candidates outside the time range a question names."),
    )

    def _facts(self, text: str, speaker: str, view) -> list[str]:
        if view.model is not None:
            try:
                out = view.model.complete_json([{"role": "system", "content": "List the facts in this message."},
                                                {"role": "user", "content": text}], FACTS_SCHEMA, max_tokens=160)
                return [str(f) for f in out.get("facts", []) if str(f).strip()]
            except StructuredOutputError:
                pass
        return [f.text.split(": ", 1)[1] for f in facts(text, speaker)]

    def extract(self, turn, view):
        if self.p["granularity"] == "round":
            if turn.role == "user":
                return []  # the round is stored when its reply arrives
            previous = view.turns(limit=2)
            turns = [t for t in previous if t.seq != turn.seq and t.role == "user"][-1:] + [turn]
        else:
            turns = [turn]
        value = "\n".join(f"{t.who}: {t.text}" for t in turns)
        date = turn.ts.date().isoformat()
        extra = self._facts(value, turns[0].who, view) + keyphrases(value, self.p["keyphrases"])
        key = f"[{date}] {value}" + (" | " + "; ".join(extra) if extra else "")
        meta = {"date": date, "ts": turn.ts.isoformat(), "key": key, **turn.metadata}
        return [Candidate(value, kind="round" if len(turns) > 1 else "turn", sources=tuple(t.seq for t in turns),
                          metadata=meta)]

    def retrieve(self, query, view, k):
        pool = view.search(query, k=k * 4)
        note = ""
        span = time_range(query, view.now) if self.p["time_aware"] else None
        if span is not None:
            start, end = span
            rows = {m.id: m for m in view.memories()} if pool else {}

            def inside(hit) -> bool:
                m = rows.get(hit.memory_id)
                ts = datetime.fromisoformat(m.metadata["ts"]) if m and "ts" in m.metadata else None
                return ts is not None and start <= ts < end

            kept = [h for h in pool if inside(h)]
            note = f"time range {start.date()} – {end.date()}: {len(kept)} of {len(pool)} candidates inside"
            if kept:
                pool = kept + [h for h in pool if not inside(h)]
        return Retrieval(pool[:k], near_misses=pool[k:k + 5], note=note)
