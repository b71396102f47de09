"""longmemeval's learned ranker: a linear model over what the hybrid search already knows of each candidate.

Reciprocal rank fusion keeps the two rankings' ranks and drops their scores; the speaker boost
multiplies by a constant; the time range partitions. Each was set by hand. A logistic regression
over the same signals (18 of them: the fused score, place and hand-set place, each side's score,
rank and gap to the pool's best, the raw key and best-sentence cosines, speaker, time range and
"when" matches, the fused score of the turn before and after in the same exchange, and whether
the turn is a question) learns how much each is worth, scores RRF cannot see included: a turn far
ahead on one side. Fit on the LoCoMo conversations tuned on (benchmarks/fit_ranker.py, which
writes WEIGHTS below); the figures, on those and on the conversations only checked, are in
docs/benchmarks.md. Written here rather than taken from a library: scoring is a dot product, and
the fitting (scikit-learn) is done offline, so nothing is learned or downloaded at run time.

The weights belong to the default embedder (all-MiniLM-L6-v2): cosines from another embedder
lie on another scale, so the strategy falls back to the fused order when another is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from memcli.strategy import Hit, Memory
from memcli.strategy.maxsim import RRF_K

EMBEDDER = "all-MiniLM-L6-v2"  # the embedder WEIGHTS were fit with (its id, as `MemoryView.embedder_id` gives it)
TOP = 10  # `fused_top`: the reciprocal rank of a turn's place in the hand-set order, for its first TOP places

# Per raw feature value (the fitted coefficient divided by the feature's standard deviation on the
# training pool); the intercept is left out, as it does not change an order. Written by
# `python benchmarks/fit_ranker.py FILE --convs conv-26,conv-30,conv-41`.
WEIGHTS: dict[str, float] = {
    "after": 13.898882, "asks": -0.97249, "before": 16.86593, "dense": -2.933154, "dense_gap": 3.269049,
    "dense_rr": 115.354884, "fused_top": 2.070138, "has_keyword": -1.959336, "has_span": -0.676741,
    "inside": 1.466977, "key": 1.749808, "keyword": 3.661353, "keyword_rr": -16.92318, "position": -0.945888,
    "rrf": 62.696535, "sentence": 1.059659, "speaker": 1.373341, "when": 0.923322,
}


@dataclass(frozen=True)
class Question:
    """What the ranker reads from the question, beside the candidates."""

    speakers: frozenset[str]  # the people it names (empty when it names none, or all of them)
    span: tuple[datetime, datetime] | None  # the time range it names
    asks_when: bool


def exchange_neighbours(memories: dict[str, Memory], ids: list[str],
                        gap: timedelta) -> dict[str, tuple[str | None, str | None]]:
    """The (previous, next) turn memory of each of `ids` in the same exchange: adjacent turns at most `gap`
    apart. Only those turns' times are read (a search asks for 40 of a namespace's thousands)."""
    turns = sorted((m for m in memories.values() if m.sources and "ts" in m.metadata), key=lambda m: min(m.sources))
    place = {m.id: i for i, m in enumerate(turns)}

    def near(i: int, j: int) -> str | None:
        """turns[j]'s id when it is of turns[i]'s exchange."""
        if not 0 <= j < len(turns):
            return None
        apart = datetime.fromisoformat(turns[j].metadata["ts"]) - datetime.fromisoformat(turns[i].metadata["ts"])
        return turns[j].id if abs(apart) <= gap else None

    return {mid: (near(place[mid], place[mid] - 1), near(place[mid], place[mid] + 1)) for mid in ids if mid in place}


def features(fused: list[Hit], ordered: list[Hit], memories: dict[str, Memory], question: Question,
             neighbours: dict[str, tuple[str | None, str | None]], inside) -> dict[str, dict[str, float]]:
    """Each candidate's features, by memory id. `fused`: the hybrid search's order (parts `rrf`, `vector`,
    `keyword`, `key`, `sentence`); `ordered`: the same hits after the hand-set rules (boosts, time range);
    `inside(hit)`: whether the hit lies in the question's time range."""
    rrf = {h.memory_id: h.parts["rrf"] for h in fused}
    dense = sorted((h for h in fused if "vector" in h.parts), key=lambda h: -h.parts["vector"])
    keyword = sorted((h for h in fused if "keyword" in h.parts), key=lambda h: -h.parts["keyword"])
    dense_rank = {h.memory_id: r for r, h in enumerate(dense)}
    keyword_rank = {h.memory_id: r for r, h in enumerate(keyword)}
    best_dense = dense[0].parts["vector"] if dense else 1.0
    best_keyword = (keyword[0].parts["keyword"] if keyword else 1.0) or 1.0
    place = {h.memory_id: r for r, h in enumerate(ordered)}
    out = {}
    for pos, h in enumerate(fused):
        m = memories[h.memory_id]
        p = h.parts
        before, after = neighbours.get(h.memory_id, (None, None))
        out[h.memory_id] = {
            "rrf": p["rrf"],
            "fused_top": 1.0 / (1 + place[h.memory_id]) if place.get(h.memory_id, TOP) < TOP else 0.0,
            "position": 1.0 / (1 + pos),
            "dense": p.get("vector", -1.0),
            "dense_gap": p.get("vector", best_dense - 1.0) - best_dense,
            "key": p.get("key", -1.0),
            "sentence": p.get("sentence", -1.0),
            "keyword": p.get("keyword", 0.0) / best_keyword,
            "has_keyword": float("keyword" in p),
            "dense_rr": 1.0 / (RRF_K + dense_rank[h.memory_id]) if h.memory_id in dense_rank else 0.0,
            "keyword_rr": 1.0 / (RRF_K + keyword_rank[h.memory_id]) if h.memory_id in keyword_rank else 0.0,
            "speaker": float(m.metadata.get("speaker") in question.speakers),
            "inside": float(question.span is not None and inside(h)),
            "has_span": float(question.span is not None),
            "when": float(question.asks_when and "when" in m.metadata),
            "before": rrf.get(before, 0.0),
            "after": rrf.get(after, 0.0),
            "asks": float(m.text.rstrip().endswith("?")),
        }
    return out


def rank(hits: list[Hit], table: dict[str, dict[str, float]], weights: dict[str, float]) -> list[Hit]:
    """`hits` by the model's score under `weights` (parts gain `ranker`), best first; ties keep their order."""
    def score(h: Hit) -> float:
        return sum(weights.get(name, 0.0) * value for name, value in table[h.memory_id].items())

    scored = [(score(h), i, h) for i, h in enumerate(hits)]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [Hit(h.memory_id, h.text, s, {**h.parts, "ranker": s}, h.sources) for s, _, h in scored]


def is_fit_for(embedder_id: str) -> bool:
    """Whether WEIGHTS apply to vectors from this embedder."""
    return bool(WEIGHTS) and embedder_id == EMBEDDER
