"""memorybank: Ebbinghaus forgetting with reinforcement by recall.

MemoryBank (Zhong et al., 2023): each memory has a strength S and a time since its last
recall Δt; retention R = exp(-Δt / S). Each recall adds 1 to S and resets Δt. Memories
whose retention falls below a threshold are forgotten — archived here, never deleted, and
deterministically (the released code's random deletion and its `exp(-t/5*S)` operator
precedence bug are not copied).

Non-LLM path: what each speaker tells about themselves and the people they name
(memcli.strategy.statements; an unnamed assistant's replies are not read); a fact already held (cosine ≥
dup_threshold) reinforces the memory instead of adding a copy. LLM path: the model states
the facts (schema-constrained), the rest is the same.
"""

from __future__ import annotations

from memcli.strategy import FACTS_SCHEMA, Candidate, Param, Retrieval, Strategy, listed_facts, ops
from memcli.strategy.forgetting import retention
from memcli.strategy.statements import is_person, statements


class MemoryBank(Strategy):
    name = "memorybank"
    description = "Ebbinghaus retention R = exp(-Δt/S); a recall adds 1 to S and resets Δt; below a threshold → archived."
    paper = "MemoryBank (Zhong et al., 2023): Enhancing large language models with long-term memory"
    params = (
        Param("threshold", float, 0.2, "Archive a memory when its retention falls below this.", min=0.0, max=1.0),
        Param("initial_strength", float, 1.0, "S of a new memory.", min=0.1, max=100.0),
        Param("unit_hours", float, 24.0, "Length of one unit of Δt, in hours (the paper counts days).",
              min=0.01, max=10000.0),
        Param("dup_threshold", float, 0.93, "Cosine at or above which a fact reinforces an existing memory.",
              min=0.5, max=1.0),
        Param("recall_similarity", float, 0.3, "A hit counts as recalled (and is reinforced) only at this cosine.",
              min=0.0, max=1.0),
    )

    def extract(self, turn, view):
        if not is_person(turn.role, turn.speaker):
            return []
        speaker = turn.who
        return view.ask_json(
            "List the facts the speaker states about themselves or the people they mention as JSON.", turn.text,
            FACTS_SCHEMA, max_tokens=192,
            read=lambda reply: [Candidate(f"{speaker}: {f}", sources=(turn.seq,)) for f in listed_facts(reply)],
            fallback=lambda why: [Candidate(f.text, kind=f.kind, importance=f.importance, sources=(turn.seq,))
                                  for f in statements(turn.text, speaker, turn.ts)])

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            similar = view.search(c.text, k=1, mode="vector")
            if similar and similar[0].score >= self.p["dup_threshold"]:
                held = view.get(similar[0].memory_id)
                if held is not None:
                    out.append(ops.Reinforce(memory_id=held.id, strength=held.strength + 1, sources=c.sources,
                                             reason="stated again", scores={"similarity": similar[0].score}))
                    continue
            out.append(ops.Add(text=c.text, kind=c.kind, importance=c.importance, sources=c.sources,
                               strength=self.p["initial_strength"], reason="new memory"))
        return out

    def decay(self, view):
        out: list[ops.Operation] = []
        for m in view.memories():
            if m.pinned:
                continue
            r = retention(m, view.now, self.p["unit_hours"])
            if r < self.p["threshold"]:
                out.append(ops.Archive(memory_id=m.id, reason=f"forgotten: retention {r:.3f} < {self.p['threshold']}",
                                       scores={"retention": r, "strength": m.strength}))
        return out

    def retrieve(self, query, view, k):
        """Hybrid search; only hits similar enough to the query count as recalled."""
        found = view.search(query, k=k + 5)
        for hit in found:
            m = view.get(hit.memory_id)
            if m is not None:
                hit.parts["retention"] = retention(m, view.now, self.p["unit_hours"])
        cut = self.p["recall_similarity"]
        hits = [h for h in found if h.parts.get("vector", 0.0) >= cut][:k]
        misses = [h for h in found if h not in hits]
        return Retrieval(hits, near_misses=misses, cutoff=cut, note=f"recalled: cosine ≥ {cut}", cutoff_on="vector")

    def recalled(self, retrieval: Retrieval, view):
        """A recall: S += 1 and Δt resets (the reinforce event stamps the recall time)."""
        out = []
        for hit in retrieval.hits:
            m = view.get(hit.memory_id)
            if m is not None:
                out.append(ops.Reinforce(memory_id=m.id, strength=m.strength + 1, reason="recalled",
                                         scores={"retention_before": hit.parts.get("retention", 1.0)}))
        return out
