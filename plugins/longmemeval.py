"""longmemeval: round-level values, fact-augmented keys, time-aware query expansion.

LongMemEval (Wu et al., 2024) finds three design choices that help long-term memory:
store values at round granularity (a user turn with the reply that follows), expand
each value's *key* with facts and keyphrases extracted from it (key = value + facts),
and expand time-bound questions into a time range that prunes the candidates.

Non-LLM path: facts (rules) and RAKE keyphrases augment the key, the session date is in
the key, `memcli.strategy.dates.time_range` reads "last Tuesday", "two weeks ago", "in May
2023" from the question. LLM path: the model lists the facts of a round (schema).

The key also carries the message before when that message asks a question and belongs to
the same exchange: a reply ("Marine biology, mostly coral reefs.") is then found by the
question it answers ("What did you study?"), while the value — what goes into the context,
and the provenance — stays the message itself. On LoCoMo this took recall@10 from 0.682 to
0.721 (docs/benchmarks.md). Only after a question: with any message before, a bare "Sounds
fun!" would be found as well as the statement it answers. The question often only points back
("How did they react?"), so the key also carries the message the question followed, when it is
of the same exchange (`context=exchange`): 0.777 → 0.792 on the conversations it was tuned on,
0.741 → 0.763 on the ones only checked.

The dense side of the hybrid search scores a turn by the best of its key's vector and its
sentences' vectors (`dense=max`, memcli.strategy.maxsim): a question usually matches one
sentence of a long turn. LoCoMo recall@10 0.746 → 0.771 on the conversations it was tuned on,
0.726 → 0.735 on the ones only checked (docs/benchmarks.md). That dense side is then ranked a
second time with the query vector pulled toward the first three fused hits (pseudo-relevance
feedback, `feedback`), so turns about the same event as the best hits but in other words move up.

The candidates are then ordered by a learned linear ranker over those same signals (`ranker=learned`,
memcli_plugins.longmemeval_ranker; weights fit on the LoCoMo conversations tuned on): 0.792 → 0.827
there, scored leave one conversation out, and 0.763 → 0.793 on the ones only checked.

The dense side reads a speaker's name in the question as "they" (`speaker_names=pronoun`): a
person's own turns carry their name only in the label, while the other speaker's turns say it
("Thanks, John!"), so the name pulled the question toward the wrong person's turns; which person
is asked about is the speaker boost's or the ranker's `speaker` feature's job. 0.827 → 0.839 on the
tuned conversations (leave one out, weights fit again), 0.793 → 0.801 on the checked ones.

`rerank=N` re-ranks the top N with the chat model (UPR, memcli.strategy.rerank): 0.792 → 0.806 on
the tuned conversations, 0.763 → 0.766 on the checked ones, at about 7 s per question with the
embedded 135M model, so it is off by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from memcli.strategy import FACTS_SCHEMA, ROLES, Candidate, Hit, Param, Retrieval, Strategy, listed_facts
from memcli.strategy.dates import iso_span, resolve_time, time_range
from memcli.strategy.maxsim import RRF_K, SentenceVectors
from memcli.strategy.rerank import by_question_likelihood
from memcli.strategy.text import facts, keyphrases
from memcli_plugins import longmemeval_ranker as ranker

# A message this much later than the one before it starts a new exchange: no context crosses the gap.
CONTEXT_GAP = timedelta(hours=1)
FEEDBACK_HITS = 3  # pseudo-relevance feedback: the first fused hits whose key vectors pull the query
_ASKS_WHEN = re.compile(r"\s*(?:when|what (?:date|day|month|year|time)|how long ago|which (?:day|month|year))\b", re.I)


@dataclass
class Candidates:
    """A retrieval's pool before its final order (`LongMemEval.candidates`)."""

    pool: list[Hit]  # in the hand-set order
    table: dict[str, dict[str, float]] | None  # the learned ranker's features, by memory id
    span: tuple[datetime, datetime] | None  # the time range the question names
    inside: Callable[[Hit], bool]  # whether a hit lies in that range
    notes: list[str]


class LongMemEval(Strategy):
    name = "longmemeval"
    description = "Round-level values, keys augmented with facts and keyphrases, time-aware query expansion."
    paper = "LongMemEval (Wu et al., 2024): Benchmarking chat assistants on long-term interactive memory"
    params = (
        Param("granularity", str, "turn", "Value unit: a single turn or a round (user turn + reply).",
              choices=("turn", "round")),
        ROLES,
        Param("context", str, "exchange", "Put the message before in the key: when it asks a question (a reply "
              "is found by the question it answers), with the message that question followed too (exchange), "
              "always, or never. The value stays the message itself.",
              choices=("exchange", "question", "previous", "none")),
        Param("keyphrases", int, 5, "Keyphrases added to each key.", min=0, max=20),
        Param("time_aware", bool, True, "Prune candidates outside the time range a question names."),
        Param("resolve_dates", bool, True, "Write the date a relative time means into the key (\"yesterday\" "
              "said on 8 May 2023: 7 May 2023); a time range then also keeps the turns that tell of it."),
        Param("speaker_boost", float, 2.0, "Multiply the score of turns by a speaker the question names "
              "(1: off).", min=1.0, max=10.0),
        Param("when_boost", float, 1.0, "Multiply the score of turns that tell when something happened "
              "(a relative time resolved to a date) for a question asking when (1: off).", min=1.0, max=10.0),
        Param("neighbours", int, 0, "After each of the top hits, add the turn that follows it (context; 0: off).",
              min=0, max=10),
        Param("fusion_depth", int, 20, "Hybrid: fuse the top max(N, 3k) of each ranking (0: complete rankings).",
              min=0),
        Param("feedback", float, 0.5, "Pseudo-relevance feedback (dense≠key): the query vector plus this times the "
              "mean key vector of the first 3 fused hits, ranked and fused again (0: off).", min=0.0, max=5.0),
        Param("rerank", int, 0, "Re-rank the top N with the chat model: how likely it finds the question after each "
              "memory (UPR), fused with the retrieval order. One model pass per memory: slow (0: off).",
              min=0, max=50),
        Param("ranker", str, "learned", "Order the candidates by hand-set rules (RRF, speaker boost) or by a linear "
              "model over the same signals, fit on LoCoMo conversations (learned; needs dense≠key and the default "
              "embedder, else the rules). A time range the question names comes first either way.",
              choices=("learned", "rules")),
        Param("speaker_names", str, "pronoun", "How the dense side (dense≠key) reads a speaker's name in the "
              "question: as \"they\" (a person's own turns carry their name only in the label, the other speaker's "
              "turns say it; the speaker boost or feature does the name's work), or kept.",
              choices=("pronoun", "keep")),
        Param("dense", str, "max", "The dense ranking fused with BM25: each turn scored by its key's vector, by the "
              "best of its key and its sentences (max), by their mean, or by its best sentence alone.",
              choices=("key", "max", "mean", "sentence")),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sentences = SentenceVectors()

    def _facts(self, text: str, speaker: str, view) -> list[str]:
        return view.ask_json("List the facts in this message.", text, FACTS_SCHEMA, max_tokens=160, read=listed_facts,
                             fallback=lambda why: [f.text.split(": ", 1)[1] for f in facts(text, speaker)])

    def extract(self, turn, view):
        if self.p["granularity"] == "round":
            if turn.role == "user":
                return []  # the round is stored when its reply arrives
            previous = view.turns(limit=2)
            turns = [t for t in previous if t.seq != turn.seq and t.role == "user"][-1:] + [turn]
        else:
            if not turn.stored_for(self.p["roles"]):
                return []
            turns = [turn]
        value = "\n".join(f"{t.who}: {t.text}" for t in turns)
        date = turn.ts.date().isoformat()
        extra = self._facts(value, turns[0].who, view) + keyphrases(value, self.p["keyphrases"])
        told, when = resolve_time(value, turn.ts) if self.p["resolve_dates"] else (value, None)
        key = self._context(turns[0], view) + f"[{date}] {told}" + (" | " + "; ".join(extra) if extra else "")
        meta = {"date": date, "ts": turn.ts.isoformat(), "key": key, "speaker": turns[0].who, **turn.metadata,
                **({"when": when} if when else {})}
        return [Candidate(value, kind="round" if len(turns) > 1 else "turn", sources=tuple(t.seq for t in turns),
                          metadata=meta)]

    def _context(self, first, view) -> str:
        """The message before `first` (with `exchange`, also the one that message followed) as lines of the key,
        if they belong to the same exchange."""
        if self.p["context"] == "none":
            return ""
        earlier = [t for t in view.turns(limit=4) if t.seq < first.seq]
        before = earlier[-1:]
        if not before or first.ts - before[0].ts > CONTEXT_GAP:
            return ""
        if self.p["context"] in ("question", "exchange") and "?" not in before[0].text:
            return ""  # "Sounds fun!" after a statement would otherwise be found as well as the statement
        if self.p["context"] == "exchange" and len(earlier) > 1 and before[0].ts - earlier[-2].ts <= CONTEXT_GAP:
            before = earlier[-2:]  # the question's own context: "How did they react?" after "… a military memorial …"
        return "".join(f"{t.who}: {t.text}\n" for t in before)

    def retrieve(self, query, view, k):
        learned = self._learned(view)
        found = self.candidates(query, view, max(k, self.p["rerank"]), learned)
        pool, notes = found.pool, found.notes
        if learned:
            pool = self.learned_order(found)
            notes.append("ordered by the learned ranker")
        elif self.p["ranker"] == "learned":
            notes.append(f"hand-set order: the learned ranker's weights are for the {ranker.EMBEDDER} embedder"
                         if self.p["dense"] != "key" else "hand-set order: the learned ranker needs dense≠key")
        if self.p["neighbours"]:
            pool = self._with_neighbours(pool, view)
        if self.p["rerank"]:
            pool = by_question_likelihood(query, pool, view, self.p["rerank"])
            notes.append(f"top {min(self.p['rerank'], len(pool))} re-ranked by the model's likelihood of the question")
        return Retrieval(pool[:k], near_misses=pool[k:k + 5], note="; ".join(notes))

    def candidates(self, query: str, view, k: int, features: bool) -> Candidates:
        """The hybrid search's pool in the hand-set order (speaker and when boosts, the time range first), and
        with `features` (needs dense≠key) each candidate's features for the learned ranker."""
        size = max(k * 4, 40) if features else max(k * 3, 20)
        memories = None if self.p["dense"] == "key" else {m.id: m for m in view.memories()}
        speakers = None if memories is None else _speakers(memories)
        dense_query = query if speakers is None or self.p["speaker_names"] == "keep" else \
            self.without_speakers(query, speakers)
        fused = self._search(query, dense_query, view, size, memories)
        rows = memories if memories is not None else view.get_many([h.memory_id for h in fused])
        named = self._named_speakers(query, speakers if speakers is not None else _speakers(rows))
        span = time_range(query, view.now) if self.p["time_aware"] else None
        pool, notes = fused, []
        if dense_query != query:
            notes.append(f"dense side reads the question as “{dense_query}”")
        if self.p["speaker_boost"] > 1.0 and named:
            pool = self._boost(pool, rows, lambda m: m.metadata.get("speaker") in named, self.p["speaker_boost"],
                               "speaker")
            notes.append(f"speaker boost ×{self.p['speaker_boost']:g} for {', '.join(sorted(named))}")
        asks_when = bool(_ASKS_WHEN.match(query))
        if self.p["when_boost"] > 1.0 and asks_when:
            pool = self._boost(pool, rows, lambda m: "when" in m.metadata, self.p["when_boost"], "when")
            notes.append(f"when boost ×{self.p['when_boost']:g}")
        inside = partial(self._inside, rows, span)
        if span is not None:
            pool = self._time_first(pool, inside, span, notes)
        table = None
        if features and memories is not None:
            table = ranker.features(fused, pool, rows, ranker.Question(named, span, asks_when),
                                    ranker.exchange_neighbours(rows, [h.memory_id for h in fused], CONTEXT_GAP), inside)
        return Candidates(pool, table, span, inside, notes)

    def learned_order(self, found: Candidates, weights: dict[str, float] = ranker.WEIGHTS) -> list[Hit]:
        """The candidates by the learned ranker's score, those inside the question's time range first."""
        pool = ranker.rank(found.pool, found.table, weights)
        return self._time_first(pool, found.inside, found.span, []) if found.span is not None else pool

    def _learned(self, view) -> bool:
        """Whether the learned ranker orders this retrieval (it reads the dense side's scores)."""
        return self.p["ranker"] == "learned" and self.p["dense"] != "key" and ranker.is_fit_for(view.embedder_id)

    @staticmethod
    def _inside(rows, span, hit) -> bool:
        """Whether the hit's turn was said in `span`, or tells of a time that overlaps it."""
        m = rows.get(hit.memory_id)
        if m is None or span is None:
            return False
        start, end = span
        ts = datetime.fromisoformat(m.metadata["ts"]) if "ts" in m.metadata else None
        told = iso_span(m.metadata["when"], start.tzinfo) if "when" in m.metadata else None  # told of
        return ts is not None and start <= ts < end or told is not None and told[0] < end and start < told[1]

    @staticmethod
    def _time_first(pool, inside, span, notes: list[str]):
        """The pool with the hits inside the time range first (when there are any), each part in its order."""
        kept = [h for h in pool if inside(h)]
        notes.append(f"time range {span[0].date()} – {span[1].date()}: {len(kept)} of {len(pool)} candidates inside")
        return kept + [h for h in pool if not inside(h)] if kept else pool

    def _search(self, query: str, dense_query: str, view, size: int, memories):
        """Hybrid search (RRF of a dense ranking and BM25 over the keys, the top max(size, fusion_depth) of each);
        unless dense=key, the dense side embeds `dense_query` and scores a turn with its sentence vectors too
        (memcli.strategy.maxsim), over `memories` (all of the namespace's, by id), and each hit's parts keep
        that vector's cosine with its key and with its best sentence."""
        if self.p["dense"] == "key":  # the index embeds the query while its keyword search runs
            return view.search(query, k=size, depth=self.p["fusion_depth"])
        vector = view.embed([dense_query])[0]
        depth = max(size, self.p["fusion_depth"]) if self.p["fusion_depth"] else len(memories)
        keys = view.vectors(list(memories))
        keyword = view.search(query, k=depth, mode="keyword")
        ranked = self._fuse(view, memories, keys, vector, keyword, depth)
        top = [keys[mid] for mid, _ in ranked[:FEEDBACK_HITS] if mid in keys]
        if self.p["feedback"] and top:  # the BM25 ranking stays: only the dense side moves toward the first hits
            import numpy as np

            fed = vector + self.p["feedback"] * np.mean(top, axis=0)
            ranked = self._fuse(view, memories, keys, fed / np.linalg.norm(fed), keyword, depth)
        top = [(mid, p) for mid, p in ranked[:size] if mid in memories]
        sentence = dict(self._sentences.ranking(view, [memories[mid] for mid, _ in top], vector, len(top)))
        return [Hit(mid, memories[mid].text, p["rrf"],
                    {**p, "key": float(keys[mid] @ vector) if mid in keys else -1.0, "sentence": sentence[mid]},
                    tuple(memories[mid].sources)) for mid, p in top]

    def _fuse(self, view, memories, keys, vector, keyword, depth) -> list[tuple[str, dict[str, float]]]:
        """The dense ranking for `vector` (key and sentence vectors combined as `dense` says) fused with the
        `keyword` hits by reciprocal rank fusion, best first."""
        sentence = dict(self._sentences.ranking(view, list(memories.values()), vector, len(memories)))
        combine = {"max": max, "mean": lambda a, b: (a + b) / 2, "sentence": lambda a, b: b}[self.p["dense"]]
        dense = sorted(((mid, combine(float(keys[mid] @ vector) if mid in keys else -1.0, sentence.get(mid, -1.0)))
                        for mid in memories), key=lambda item: (-item[1], item[0]))[:depth]
        parts: dict[str, dict[str, float]] = {}
        for rank, (mid, sim) in enumerate(dense):
            parts[mid] = {"vector": sim, "rrf": 1.0 / (RRF_K + rank + 1)}
        for rank, h in enumerate(keyword):
            p = parts.setdefault(h.memory_id, {"rrf": 0.0})
            p["keyword"] = h.score
            p["rrf"] += 1.0 / (RRF_K + rank + 1)
        return sorted(parts.items(), key=lambda kv: (-kv[1]["rrf"], kv[0]))

    @staticmethod
    def _named_speakers(query: str, speakers: set[str]) -> frozenset[str]:
        """The `speakers` the question names (questions usually name the person they ask about); none when it
        names every speaker, as then no one's turns should come first."""
        named = frozenset(s for s in speakers if re.search(rf"\b{re.escape(s)}\b", query, re.I))
        return named if len(named) < len(speakers) else frozenset()

    @staticmethod
    def without_speakers(query: str, speakers) -> str:
        """The question with each speaker's name, and its possessive, as "they" ("What is Tom's band?" → "What is
        they band?"; see the module's docstring)."""
        for name in speakers:
            query = re.sub(rf"\b{re.escape(name)}(?:'s)?\b", "they", query, flags=re.I)
        return query

    @staticmethod
    def _boost(pool, rows, applies, boost: float, part: str):
        """The pool re-ranked with the score of the memories `applies` to multiplied by `boost`."""
        def factor(hit) -> float:
            m = rows.get(hit.memory_id)
            return boost if m is not None and applies(m) else 1.0

        return sorted((Hit(h.memory_id, h.text, h.score * factor(h), {**h.parts, part: factor(h)}, h.sources)
                       for h in pool), key=lambda h: -h.score)

    def _with_neighbours(self, pool, view):
        """After each of the top hits, the memory of the next turn (scored just below the hit)."""
        by_first_source: dict[int, str] = {}
        memories = view.memories()
        for m in memories:
            if m.sources:
                by_first_source.setdefault(min(m.sources), m.id)
        order = sorted(by_first_source)
        position = {seq: i for i, seq in enumerate(order)}
        texts = {m.id: m for m in memories}
        out, seen = [], set()
        for rank, hit in enumerate(pool):
            if hit.memory_id in seen:
                continue
            out.append(hit)
            seen.add(hit.memory_id)
            if rank < self.p["neighbours"] and hit.sources:
                i = position.get(max(hit.sources))
                if i is not None and i + 1 < len(order):
                    nid = by_first_source[order[i + 1]]
                    m = texts.get(nid)
                    if m is not None and nid not in seen:
                        out.append(Hit(nid, m.text, hit.score * 0.999, {"neighbour_of": 1.0}, tuple(m.sources)))
                        seen.add(nid)
        return out


def _speakers(rows) -> set[str]:
    """The named speakers of a namespace's memories (not the chat roles)."""
    return {m.metadata.get("speaker", "") for m in rows.values()} - {"", "User", "Assistant"}
