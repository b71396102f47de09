"""memgas: memory units at several granularities, GMM association, an entropy-based router.

MemGAS (2025): every message yields units at several granularities — the turn itself and
its keyphrases; when a session ends, the whole session and a summary of it. Each new unit
is associated with the historical units: the cosine similarities between it and its
nearest units are split by a two-component Gaussian mixture (scikit-learn), and the units
in the component with the higher mean become its links. At a query, the similarities of the
best units of each granularity are turned into a distribution (softmax at temperature tau);
the router weights each granularity by the inverse of that distribution's normalised
entropy, so the granularity whose relevance is sharpest counts most; the links then spread a
share of each hit's score to its associated units (one step of the paper's graph
propagation). With a capable model and `llm_filter`, the model drops retrieved units that do
not bear on the query.

Non-LLM path: keyphrases are RAKE-style (memcli.strategy.text.keyphrases); a session's
summary is the facts stated in it (rules), or its keyphrases when none are found. LLM path:
the model writes the summary.
"""

from __future__ import annotations

import math

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy, ops
from memcli.strategy.sessions import opens_session
from memcli.strategy.text import facts, keyphrases

GRANULARITIES = ("turn", "keyphrase", "session", "summary")
SUMMARY_PROMPT = "Summarise this conversation session in two or three sentences of facts. Reply with JSON {\"summary\": \"...\"}."
FILTER_PROMPT = ("Which of these numbered memories help answer the question? Reply with JSON {\"relevant\": [numbers]}.")
SUMMARY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}


class MemGAS(Strategy):
    name = "memgas"
    description = ("Units at four granularities (turn, keyphrase, session, summary), associated by a Gaussian "
                   "mixture over similarities; an entropy-based router weights the granularities per query.")
    paper = "MemGAS (Xu et al., 2025): Towards multi-granularity memory association and selection"
    params = (
        Param("session_gap_hours", float, 4.0, "A pause this long between messages ends a session.", min=0.0),
        Param("tau", float, 0.05, "Temperature of the softmax over a granularity's similarities (the router).",
              min=0.001, max=10.0),
        Param("router_depth", int, 10, "Best units per granularity whose distribution the router measures.",
              min=2, max=100),
        Param("link_candidates", int, 20, "Nearest units the Gaussian mixture splits into linked / not linked.",
              min=4, max=200),
        Param("min_link", float, 0.3, "A unit is never linked below this cosine.", min=0.0, max=1.0),
        Param("spread", float, 0.3, "Share of a hit's score passed to the units associated with it.",
              min=0.0, max=1.0),
        Param("max_session_chars", int, 2000, "Longest session unit (the start is kept).", min=100),
        Param("llm_filter", bool, False, "With a capable model: let it drop retrieved units that do not help."),
    )

    # -- units -----------------------------------------------------------------------------

    def extract(self, turn, view):
        out = []
        if opens_session(turn, view, self.p["session_gap_hours"]):
            out.append(Candidate("close the session that ended", kind="session-end"))
        date = turn.ts.date().isoformat()
        out.append(Candidate(f"{turn.who}: {turn.text}", kind="turn", sources=(turn.seq,),
                             metadata={"granularity": "turn", "date": date}))
        phrases = keyphrases(turn.text, 4)
        if phrases:
            out.append(Candidate(f"{turn.who}: {'; '.join(phrases)}", kind="keyphrase", sources=(turn.seq,),
                                 metadata={"granularity": "keyphrase", "date": date}))
        return out

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            units = self._close_session(view) if c.kind == "session-end" else [c]
            for u in units:
                links, scores = self._associate(u.text, view)
                out.append(ops.Add(text=u.text, kind=u.kind, sources=u.sources,
                                   metadata={**u.metadata, "links": links},
                                   reason=f"{u.kind} unit, linked to {len(links)} by the Gaussian mixture",
                                   scores=scores))
        return out

    def _close_session(self, view) -> list[Candidate]:
        """The session that ended → a session unit and a summary unit."""
        closed = max((max(m.sources, default=0) for m in view.with_metadata("granularity", "session")), default=0)
        turns = sorted((m for m in view.with_metadata("granularity", "turn") if min(m.sources, default=0) > closed),
                       key=lambda m: m.created_seq)
        if not turns:
            return []
        sources = tuple(sorted({s for m in turns for s in m.sources}))
        date = turns[0].metadata.get("date", "")
        body = " ".join(m.text for m in turns)
        return [Candidate(f"Session [{date}]: {body}"[: self.p["max_session_chars"]], kind="session",
                          sources=sources, metadata={"granularity": "session", "date": date}),
                Candidate(f"Summary [{date}]: {self._summary(turns, body, view)}", kind="summary", sources=sources,
                          metadata={"granularity": "summary", "date": date})]

    @staticmethod
    def _summary(turns, body: str, view) -> str:
        return view.ask_json(SUMMARY_PROMPT, body[:4000], SUMMARY_SCHEMA, max_tokens=192,
                             read=lambda raw: str(raw["summary"]).strip() or None,
                             fallback=lambda why: MemGAS._rule_summary(turns, body))

    @staticmethod
    def _rule_summary(turns, body: str) -> str:
        stated = [f.text for m in turns for f in facts(m.text.partition(": ")[2], m.text.partition(": ")[0])]
        return "; ".join(dict.fromkeys(stated)) or "talked about " + ", ".join(keyphrases(body, 8))

    def _associate(self, text: str, view) -> tuple[list[str], dict[str, float]]:
        """The historical units a new unit is linked to: the high-similarity component of a 2-GMM."""
        near = [h for h in view.search(text, k=self.p["link_candidates"], mode="vector")]
        if len(near) < 4:
            return [h.memory_id for h in near if h.score >= self.p["min_link"]], {}
        import numpy as np
        from sklearn.mixture import GaussianMixture

        sims = np.array([[h.score] for h in near])
        gmm = GaussianMixture(n_components=2, random_state=0).fit(sims)
        high = int(np.argmax(gmm.means_.ravel()))
        labels = gmm.predict(sims)
        links = [h.memory_id for h, lab in zip(near, labels) if lab == high and h.score >= self.p["min_link"]]
        return links, {"gmm_high_mean": round(float(gmm.means_.ravel()[high]), 4)}

    # -- retrieval -------------------------------------------------------------------------

    def retrieve(self, query, view, k):
        depth = self.p["router_depth"]
        found = view.search(query, k=depth * len(GRANULARITIES) * 3, mode="vector")
        rows = view.get_many([h.memory_id for h in found])
        by_gran: dict[str, list[Hit]] = {}
        for h in found:
            if h.memory_id in rows:
                by_gran.setdefault(rows[h.memory_id].metadata.get("granularity", "turn"), []).append(h)
        weights = {g: 1.0 / max(self._entropy([h.score for h in hs[:depth]]), 1e-3) for g, hs in by_gran.items()}
        total = sum(weights.values()) or 1.0
        weights = {g: w / total for g, w in weights.items()}
        scored = {h.memory_id: Hit(h.memory_id, h.text, weights[g] * h.score,
                                   {"vector": h.score, "router": weights[g]}, h.sources)
                  for g, hs in by_gran.items() for h in hs}
        self._spread(scored, view)
        ranked = sorted(scored.values(), key=lambda h: -h.score)
        ranked = self._filter(query, ranked, k, view)
        sharpest = max(weights, key=weights.get) if weights else "-"
        note = f"router: {sharpest} sharpest; " + ", ".join(f"{g} {w:.2f}" for g, w in sorted(weights.items()))
        return Retrieval(ranked[:k], near_misses=ranked[k:k + 5], note=note)

    def _entropy(self, sims: list[float]) -> float:
        """Normalised entropy (0 sharp … 1 flat) of softmax(sims / tau)."""
        if len(sims) < 2:
            return 1.0
        top = max(sims)
        exp = [math.exp((s - top) / self.p["tau"]) for s in sims]
        z = sum(exp)
        return -sum(e / z * math.log(e / z) for e in exp if e > 0) / math.log(len(sims))

    def _spread(self, scored: dict[str, Hit], view) -> None:
        """Each hit passes `spread` × its score to the units linked with it (either direction)."""
        share = self.p["spread"]
        if not share:
            return
        memories = {m.id: m for m in view.memories()}
        neighbours: dict[str, set[str]] = {}
        for m in memories.values():
            for other in m.metadata.get("links", []):
                neighbours.setdefault(m.id, set()).add(other)
                neighbours.setdefault(other, set()).add(m.id)
        passed: dict[str, float] = {}
        for h in scored.values():
            for other in neighbours.get(h.memory_id, ()):
                passed[other] = max(passed.get(other, 0.0), share * h.score)
        for memory_id, bonus in passed.items():
            m = memories.get(memory_id)
            if m is None:
                continue
            hit = scored.get(memory_id) or Hit(m.id, m.text, 0.0, {"vector": 0.0, "router": 0.0},
                                               tuple(m.sources))
            scored[memory_id] = Hit(hit.memory_id, hit.text, hit.score + bonus, {**hit.parts, "association": bonus},
                                    hit.sources)

    def _filter(self, query: str, ranked: list[Hit], k: int, view) -> list[Hit]:
        if not self.p["llm_filter"] or not ranked:
            return ranked
        shown = ranked[: 2 * k]
        listing = "\n".join(f"{i}: {h.text}" for i, h in enumerate(shown))
        schema = {"type": "object", "properties": {"relevant": {"type": "array", "items": {
            "type": "integer", "minimum": 0, "maximum": len(shown) - 1}}}, "required": ["relevant"]}

        def read(raw) -> list[Hit]:
            keep = {i for i in raw["relevant"] if isinstance(i, int)}
            return [h for i, h in enumerate(shown) if i in keep] + ranked[2 * k:] if keep else ranked

        return view.ask_json(FILTER_PROMPT, f"Question: {query}\n{listing}", schema, read=read,
                             fallback=lambda why: ranked)
