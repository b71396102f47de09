"""recency: store user messages; rank hybrid-search hits by score × 2^(-age / half_life)."""

from __future__ import annotations

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy


class Recency(Strategy):
    name = "recency"
    description = "User messages as memories; hybrid search re-ranked by an exponential recency decay."
    paper = "example plugin (no paper): recency weighting as in generative agents (Park et al., 2023)"
    params = (Param("half_life_hours", float, 72.0, "Age at which a memory's score halves.", min=0.1),)

    def extract(self, turn, view):
        if turn.role != "user":
            return []
        return [Candidate(f"{turn.who}: {turn.text}", kind="turn", sources=(turn.seq,))]

    def retrieve(self, query, view, k):
        hits = []
        for hit in view.search(query, k=k * 3):
            memory = view.get(hit.memory_id)
            age_h = (view.now - memory.created_at).total_seconds() / 3600 if memory else 0.0
            recency = 0.5 ** (age_h / self.p["half_life_hours"])
            hits.append(Hit(hit.memory_id, hit.text, hit.score * recency, {**hit.parts, "recency": recency},
                            hit.sources))
        hits.sort(key=lambda h: -h.score)
        return Retrieval(hits[:k], near_misses=hits[k:k + 5])
