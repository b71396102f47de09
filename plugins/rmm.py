"""rmm: prospective reflection into topic memories, retrospective reflection by a learned reranker.

Reflective Memory Management (Tan et al., 2025).

Prospective reflection: while a session runs its messages are kept as turn memories; when
the next session opens (a message from another run of memcli, or `session_gap_hours` after
the last one) the finished session is summarised into topic memories, each merged into the
bank (an existing topic at cosine ≥ merge_threshold is updated, otherwise the topic is
added) and the session's turn memories are archived. Non-LLM path: the session's turns are
grouped by agglomerative clustering of their embeddings (scikit-learn, average linkage,
cosine distance ≤ topic_distance); a topic is its keyphrases and its turns. LLM path: the
model writes the topics and says which turns each covers (schema-constrained).

Retrospective reflection: the top `candidates` memories of a hybrid search are reranked to
the top k by a linear reranker over their score parts (vector, keyword, recency, topic).
Which shown memories the reply used (the reply's citations [n] when it has some; otherwise
the overlap coefficient of their content words, ≥ use_overlap) gives a reward
of +1 or -1 to each, and the weights take one REINFORCE step on the softmax over the
candidates (lr × r × (f - E_p[f])). The weights live in a memory of kind "state" whose
metadata the engine updates like any other memory, so they are events in the log and a
replay or backfill reproduces the learning; its text shows the current weights.
"""

from __future__ import annotations

import math
import re

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy, build_context, ops
from memcli.strategy.sessions import opens_session
from memcli.strategy.text import content_words, keyphrases

FEATURES = ("vector", "keyword", "recency", "topic")
INITIAL_WEIGHTS = (1.0, 0.3, 0.1, 0.1)
TOPICS_PROMPT = ("Summarise this conversation session into its topics. For each topic write one or two "
                 "sentences with the facts stated, and list the numbers of the turns it covers. Reply with JSON "
                 "{\"topics\": [{\"summary\": \"...\", \"turns\": [0, 1]}]}.")
TOPICS_SCHEMA = {"type": "object", "properties": {"topics": {"type": "array", "items": {
    "type": "object", "properties": {"summary": {"type": "string"},
                                     "turns": {"type": "array", "items": {"type": "integer"}}},
    "required": ["summary", "turns"]}}}, "required": ["topics"]}
CITE = " Cite the memories you use by their number, like [1]."


def weights_line(weights: list[float]) -> str:
    return ", ".join(f"{n} {w:+.3f}" for n, w in zip(FEATURES, weights))


def weights_text(weights: list[float], updates: int) -> str:
    return f"RMM reranker weights after {updates} update(s): {weights_line(weights)}"



class RMM(Strategy):
    name = "rmm"
    description = ("Prospective reflection: each finished session becomes topic memories merged into the bank; "
                   "retrospective: a reranker learned online from the memories each reply used.")
    paper = "Reflective Memory Management (Tan et al., 2025): In prospect and retrospect"
    params = (
        Param("session_gap_hours", float, 4.0, "A pause this long between messages ends a session.", min=0.0),
        Param("topic_distance", float, 0.75, "Turns whose embeddings are within this cosine distance (average "
              "linkage) form one topic.", min=0.0, max=2.0),
        Param("merge_threshold", float, 0.7, "Cosine at or above which a new topic is merged into an existing "
              "one.", min=0.0, max=1.0),
        Param("max_topic_chars", int, 1200, "Longest topic text; a merge keeps the newest part.", min=100),
        Param("candidates", int, 20, "K: memories retrieved before reranking to the top k.", min=1, max=200),
        Param("learning_rate", float, 0.5, "Step size of the reranker's REINFORCE update.", min=0.0, max=10.0),
        Param("use_overlap", float, 0.5, "Without citations, a memory counts as used when its content words and "
              "the reply's overlap this much (|shared| / the smaller set).", min=0.0, max=1.0),
    )

    # -- memory of the session and prospective reflection ----------------------------------

    def extract(self, turn, view):
        out = []
        if opens_session(turn, view, self.p["session_gap_hours"]):
            out.append(Candidate("reflect on the session that ended", kind="reflection"))
        if turn.role == "assistant":
            out.append(Candidate(turn.text, kind="feedback", sources=(turn.seq,)))
        out.append(Candidate(f"{turn.who}: {turn.text}", kind="turn", sources=(turn.seq,),
                             metadata={"date": turn.ts.date().isoformat()}))
        return out

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            if c.kind == "reflection":
                out.extend(self._reflect(view))
            elif c.kind == "feedback":
                out.extend(self._learn(c.text, view))
            else:
                out.append(ops.Add(text=c.text, kind="turn", sources=c.sources, metadata=dict(c.metadata),
                                   reason="turn of the current session (kept until the session is reflected)"))
        return out

    def _topics(self, turns, view) -> list[tuple[str, list]]:
        """The session's turn memories → [(topic text, the turns it covers)]."""
        listing = "\n".join(f"{i}: {m.text}" for i, m in enumerate(turns))

        def read(raw) -> list[tuple[str, list]] | None:
            topics = [(str(t["summary"]).strip(), [turns[i] for i in t["turns"] if 0 <= i < len(turns)])
                      for t in raw["topics"]]
            return topics if topics and all(text and covered for text, covered in topics) else None

        return view.ask_json(TOPICS_PROMPT, listing, TOPICS_SCHEMA, max_tokens=384, read=read,
                             fallback=lambda why: self._clustered(turns, view))

    def _clustered(self, turns, view) -> list[tuple[str, list]]:
        """The rule path: turns grouped by agglomerative clustering of their vectors."""
        if len(turns) == 1:
            labels = [0]
        else:
            import numpy as np
            from sklearn.cluster import AgglomerativeClustering

            vectors = view.vectors([m.id for m in turns])
            x = np.stack([vectors[m.id] for m in turns])
            labels = AgglomerativeClustering(n_clusters=None, distance_threshold=self.p["topic_distance"],
                                             metric="cosine", linkage="average").fit(x).labels_.tolist()
        groups: dict[int, list] = {}
        for label, m in zip(labels, turns):
            groups.setdefault(label, []).append(m)
        out = []
        for members in groups.values():
            body = " ".join(m.text for m in members)
            head = ", ".join(keyphrases(body, 3))
            out.append((f"Topic ({head}) [{members[0].metadata.get('date', '')}]: {body}", members))
        return out

    def _reflect(self, view) -> list[ops.Operation]:
        turns = sorted((m for m in view.memories() if m.kind == "turn"), key=lambda m: m.created_seq)
        if not turns:
            return []
        cap = self.p["max_topic_chars"]
        merged: dict[str, tuple[str, set[int], float]] = {}
        out: list[ops.Operation] = []
        for text, members in self._topics(turns, view):
            sources = {s for m in members for s in m.sources}
            best = next((h for h in view.search(text, k=len(turns) + 5, mode="vector")
                         if (m := view.get(h.memory_id)) is not None and m.kind == "topic"), None)
            if best is not None and best.score >= self.p["merge_threshold"]:
                old, old_sources, _ = merged.get(best.memory_id, (best.text, set(), 0.0))
                merged[best.memory_id] = ((old + " | " + text)[-cap:], old_sources | sources, best.score)
            else:
                out.append(ops.Add(text=text[:cap], kind="topic", sources=tuple(sorted(sources)),
                                   metadata={"date": members[0].metadata.get("date", "")},
                                   reason=f"prospective reflection: a new topic from {len(members)} turn(s)"))
        for memory_id, (text, sources, score) in merged.items():
            out.append(ops.Update(memory_id=memory_id, text=text, sources=tuple(sorted(sources)),
                                  reason="prospective reflection: merged into this topic",
                                  scores={"similarity": score}))
        out.extend(ops.Archive(memory_id=m.id, reason="reflected into a topic") for m in turns)
        return out

    # -- retrospective reflection ----------------------------------------------------------

    @staticmethod
    def _reranker(view):
        held = view.with_metadata("role", "reranker")
        return held[0] if held else None

    def _weights(self, view) -> list[float]:
        state = self._reranker(view)
        return list(state.metadata["weights"]) if state is not None else list(INITIAL_WEIGHTS)

    def retrieve(self, query, view, k):
        found = view.search(query, k=self.p["candidates"] + 1)  # + 1: the reranker's own state may be found
        rows = view.get_many([h.memory_id for h in found])
        found = [h for h in found if h.memory_id in rows and rows[h.memory_id].kind != "state"]
        top_keyword = max((h.parts.get("keyword", 0.0) for h in found), default=0.0) or 1.0
        weights = self._weights(view)
        ranked = []
        for h in found[: self.p["candidates"]]:
            m = rows[h.memory_id]
            age_days = max(0.0, (view.now - m.created_at).total_seconds() / 86400)
            f = {"vector": h.parts.get("vector", 0.0), "keyword": h.parts.get("keyword", 0.0) / top_keyword,
                 "recency": math.exp(-age_days / 30), "topic": 1.0 if m.kind == "topic" else 0.0}
            score = sum(w * f[n] for w, n in zip(weights, FEATURES))
            ranked.append(Hit(h.memory_id, h.text, score, {**h.parts, **{f"f_{n}": f[n] for n in FEATURES},
                                                           "rerank": score}, h.sources))
        ranked.sort(key=lambda h: -h.score)
        return Retrieval(ranked[:k], near_misses=ranked[k:k + 5],
                         note=f"top {self.p['candidates']} reranked to {k} by {weights_line(weights)}")

    def recalled(self, retrieval, view):
        """Remember what was offered (features of every candidate, which were shown) until the reply."""
        offered = [[h.memory_id, [h.parts[f"f_{n}"] for n in FEATURES], 1]
                   for h in retrieval.hits] + [[h.memory_id, [h.parts[f"f_{n}"] for n in FEATURES], 0]
                                               for h in retrieval.near_misses]
        if not offered:
            return []
        state = self._reranker(view)
        if state is None:
            return [ops.Add(text=weights_text(list(INITIAL_WEIGHTS), 0), kind="state",
                            metadata={"role": "reranker", "weights": list(INITIAL_WEIGHTS), "updates": 0,
                                      "offered": offered}, reason="the reranker's first retrieval")]
        return [ops.Update(memory_id=state.id, text=state.text, metadata={"offered": offered},
                           reason="retrieval offered to the reply")]

    def _learn(self, reply: str, view) -> list[ops.Operation]:
        state = self._reranker(view)
        if state is None or not state.metadata.get("offered"):
            return []
        offered = state.metadata["offered"]
        shown = [o for o in offered if o[2]]
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", reply)}
        reply_words = set(content_words(reply))
        rewards = []
        for i, (memory_id, _, _) in enumerate(shown, 1):
            if cited:
                used = i in cited
            else:
                m = view.get(memory_id)
                words = set(content_words(m.text)) if m is not None else set()
                # overlap coefficient: a long topic and a short reply can still share most of the reply
                used = bool(words and reply_words) and \
                    len(words & reply_words) / min(len(words), len(reply_words)) >= self.p["use_overlap"]
            rewards.append(1.0 if used else -1.0)
        w = list(state.metadata["weights"])
        scores = [sum(a * b for a, b in zip(w, f)) for _, f, _ in offered]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        z = sum(exp)
        expected = [sum(e / z * f[j] for e, (_, f, _) in zip(exp, offered)) for j in range(len(FEATURES))]
        lr = self.p["learning_rate"]
        for r, (_, f, _) in zip(rewards, shown):
            w = [wj + lr * r * (fj - ej) / len(shown) for wj, fj, ej in zip(w, f, expected)]
        w = [round(x, 6) for x in w]
        updates = int(state.metadata.get("updates", 0)) + 1
        used = sum(r > 0 for r in rewards)
        deltas = {f"Δ {n}": round(new - old, 6) for n, new, old in zip(FEATURES, w, state.metadata["weights"])}
        return [ops.Update(memory_id=state.id, text=weights_text(w, updates),
                           metadata={"weights": w, "updates": updates, "offered": []},
                           reason=f"retrospective reflection: the reply used {used} of {len(shown)} memories"
                                  f" ({'citations' if cited else 'word overlap'})",
                           scores={"used": float(used), "shown": float(len(shown)), **deltas})]

    def build_context(self, retrieval, history, user, *, system, count, budget):
        """Memories numbered [1]..[k], so that a capable model can cite the ones it used."""
        numbered = [f"[{i}] {h.text}" for i, h in enumerate(retrieval.hits, 1)]
        return build_context(system=system + CITE, memories=numbered, history=history, user=user, count=count,
                             budget=budget)
