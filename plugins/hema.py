"""hema: a compact running summary plus a vector memory of chunks with age-weighted pruning.

HEMA (2025), hippocampus-inspired extended memory: Compact Memory keeps a one-sentence
running summary S_t = f(S_{t-1}, u_t) and, every N turns, a summary of summaries
(an "episode"); Vector Memory keeps the turns as chunks; pruning removes chunks by an
age-weighted score so the oldest low-weight chunks go first.

Non-LLM f: the summary is rebuilt from the previous summary's topics and the new turn:
"Topics: <top keyphrases of the recent turns>. Latest: <first clause of u_t>". Its
provenance, what a recall of it leads back to, is the turns it was made from: the new turn
and the recent turns holding one of its topics (LLM f: the recent turns) — not every turn so
far. LLM f: the model rewrites the summary in one sentence (schema-constrained).

Chunks are sentences (`chunk=sentence`; a fragment under four words joins the next one) or
whole turns (`chunk=turn`). Retrieval ranks the chunks (hybrid search), keeps the best chunk
of each turn until k turns are covered, and appends the compact summary after them: the
summary is always in the context, but it no longer takes the first ranks (placed first, its
recent turns filled the first turn ids of every answer, 0.000 recall@5). A sentence is a
shorter context than its whole turn, so k turns cost fewer tokens.

Chunk weight = importance × exp(-age_in_turns / tau); importance grows with the chunk's content
words, so pruning takes short, old chunks ("Wow, thanks!") first.
"""

from __future__ import annotations

import math

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy, ops
from memcli.strategy.text import content_words, keyphrases, sentence_units, sentences

SUMMARY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}


class Hema(Strategy):
    name = "hema"
    description = "Running one-sentence summary + episode summaries every N turns + chunk memory with age-weighted pruning."
    paper = "HEMA (2025): a hippocampus-inspired extended memory architecture for long-context AI conversations"
    params = (
        Param("episode_every", int, 10, "Write a summary-of-summaries episode every N turns.", min=2, max=1000),
        Param("max_chunks", int, 1000, "Keep at most this many chunks; prune the lowest weights beyond it.", min=1),
        Param("tau", float, 1000.0, "Age scale (in turns) of the chunk weight exp(-age/tau).", min=1.0),
        Param("topics", int, 6, "Keyphrases kept in the rule-based summary.", min=1, max=20),
        Param("chunk", str, "sentence", "What a vector-memory chunk holds: a sentence of a turn, or the whole turn.",
              choices=("sentence", "turn")),
    )

    # -- compact memory --------------------------------------------------------------------

    def _summary(self, view):
        found = view.with_metadata("role", "summary")
        return found[-1] if found else None

    def _next_summary(self, previous: str, turn, view) -> tuple[str, tuple[int, ...]]:
        """S_t and the turns it was made from (its provenance: not every turn so far)."""
        recent = view.turns(limit=6)
        return view.ask_json(
            "Update the one-sentence summary of a conversation.",
            f"Summary so far: {previous or '(none)'}\nNew message: {turn.text}", SUMMARY_SCHEMA, max_tokens=96,
            read=lambda out: (out["summary"].strip(), tuple(t.seq for t in recent)) if out.get("summary", "").strip()
            else None,
            fallback=lambda why: self._rule_summary(turn, recent))

    def _rule_summary(self, turn, recent) -> tuple[str, tuple[int, ...]]:
        topics = keyphrases(" ".join(t.text for t in recent), self.p["topics"])
        first = sentences(turn.text)[0] if sentences(turn.text) else turn.text
        contributors = {turn.seq} | {t.seq for t in recent if any(p in t.text.lower() for p in topics)}
        return f"Topics: {', '.join(topics)}. Latest ({turn.who}): {first[:160]}", tuple(sorted(contributors))

    def extract(self, turn, view):
        meta = {"role": "chunk", "turn_index": view.turn_count(), "date": turn.ts.date().isoformat()}
        pieces = sentence_units(turn.text) if self.p["chunk"] == "sentence" else [turn.text]
        return [Candidate(f"{turn.who}: {piece}", kind="chunk", importance=importance(piece),
                          sources=(turn.seq,), metadata=dict(meta)) for piece in pieces]

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            out.append(ops.Add(text=c.text, kind="chunk", importance=c.importance, sources=c.sources,
                               metadata=dict(c.metadata), reason="vector memory chunk"))
        turn = view.turns(limit=1)[-1]
        summary = self._summary(view)
        text, contributors = self._next_summary(summary.text if summary else "", turn, view)
        meta = {"contributors": list(contributors)}
        if summary is None:
            out.append(ops.Add(text=text, kind="summary", importance=1.0, sources=contributors,
                               metadata={"role": "summary", **meta}, reason="compact memory S_1"))
        else:
            n = view.turn_count()
            out.append(ops.Update(memory_id=summary.id, text=text, sources=contributors, metadata=meta,
                                  reason=f"S_{n} = f(S_{n - 1}, u_{n})"))
            if n % self.p["episode_every"] == 0:
                out.append(ops.Add(text=f"Episode up to turn {n}: {summary.text}", kind="episode", importance=0.8,
                                   sources=_contributors(summary), metadata={"role": "episode"},
                                   reason=f"summary of summaries every {self.p['episode_every']} turns"))
        return out

    # -- pruning ---------------------------------------------------------------------------

    def weight(self, memory, current_turn: int) -> float:
        age = max(0, current_turn - int(memory.metadata.get("turn_index", 0)))
        return memory.importance * math.exp(-age / self.p["tau"])

    def decay(self, view):
        chunks = [m for m in view.memories() if m.kind == "chunk" and not m.pinned]
        excess = len(chunks) - self.p["max_chunks"]
        if excess <= 0:
            return []
        now_turn = view.turn_count()
        ranked = sorted(chunks, key=lambda m: (self.weight(m, now_turn), m.created_seq))
        return [ops.Archive(memory_id=m.id, reason="pruned: lowest age-weighted score",
                            scores={"weight": self.weight(m, now_turn)}) for m in ranked[:excess]]

    # -- retrieval -------------------------------------------------------------------------

    def retrieve(self, query, view, k):
        found = view.search(query, k=4 * k + 6)
        kinds = {i: m.kind for i, m in view.get_many([h.memory_id for h in found]).items()}
        ranked, turns = [], set()
        for hit in found:
            if kinds.get(hit.memory_id) != "chunk" or set(hit.sources) <= turns:
                continue  # the best chunk of a turn stands for it
            ranked.append(hit)
            turns |= set(hit.sources)
        hits = ranked[:k]
        summary = self._summary(view)
        if summary is not None:
            hits.append(Hit(summary.id, summary.text, 1.0, {"compact": 1.0}, _contributors(summary)))
        return Retrieval(hits, near_misses=ranked[k:k + 5],
                         note=f"{len(hits) - (summary is not None)} chunks (best per turn), then the compact summary")


def importance(text: str) -> float:
    return min(1.0, 0.2 + 0.04 * len(set(content_words(text))))


def _contributors(summary) -> tuple[int, ...]:
    """The turns the current summary was made from. Its `sources` are every turn any version was
    made from (the history); a summary older than this rule has only those."""
    return tuple(summary.metadata.get("contributors") or summary.sources)
