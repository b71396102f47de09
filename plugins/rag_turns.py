"""rag-turns: every message is a memory, found again by embedding, BM25 or both."""

from __future__ import annotations

from memcli.strategy import ROLES, Candidate, Param, Retrieval, Strategy


class RagTurns(Strategy):
    name = "rag-turns"
    description = "Raw turns as memory values; dense, keyword (BM25) or hybrid (RRF) retrieval, top-k."
    paper = "LongMemEval (Wu et al., 2024): the turn-level RAG baseline"
    params = (
        Param("mode", str, "hybrid", "Retrieval: vector, keyword or hybrid (reciprocal rank fusion).",
              choices=("hybrid", "vector", "keyword")),
        ROLES,
        Param("date_in_key", bool, False, "Prefix the search key with the turn's date."),
        Param("fusion_depth", int, 0, "Hybrid: fuse the top N of each ranking (0: the complete rankings, "
              "standard RRF).", min=0),
        Param("analyzer", str, "english", "Keyword analyzer: english (stemming, stop words) or plain (classic "
              "BM25 over lowercase words, the LoCoMo reference baseline).", choices=("english", "plain")),
    )

    def index_options(self):
        return {"analyzer": self.p["analyzer"]}

    def extract(self, turn, view):
        if not turn.stored_for(self.p["roles"]):
            return []
        text = f"{turn.who}: {turn.text}"
        meta = {"role": turn.role, "date": turn.ts.date().isoformat(), **turn.metadata}
        if self.p["date_in_key"]:
            meta["key"] = f"[{turn.ts.date().isoformat()}] {text}"
        return [Candidate(text=text, kind="turn", sources=(turn.seq,), metadata=meta)]

    def retrieve(self, query, view, k):
        found = view.search(query, k=k + 5, mode=self.p["mode"], depth=self.p["fusion_depth"])
        return Retrieval(found[:k], near_misses=found[k:], cutoff=found[k - 1].score if len(found) >= k else None)
