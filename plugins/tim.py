"""tim: Think-in-Memory — store the thoughts after a response, recall them through LSH.

TiM (Liu et al., 2023): after each exchange the agent stores "thoughts" (inductive
triples) rather than raw turns, with insert, forget and merge operations; recall hashes
the query with locality-sensitive hashing and ranks by similarity inside the bucket.

Non-LLM path: a thought is a (subject, relation, object) triple read from what a speaker
tells about themselves or a person they name (memcli.strategy.statements: the verb
becomes the relation, a slot such as residence or job becomes the relation, dates are
resolved). Both people of a conversation are read; an unnamed assistant's replies are not.
Merge: a new object for a single-valued relation (residence, job, …) replaces the old one (the memory is updated, the old triple stays
in its history); forget: a negated statement ("I no longer …", "I don't … anymore")
archives the triple it contradicts. LLM path: the model writes the triples (schema).
LSH, multi-probe over several tables: each of `tables` sets of `planes` random hyperplanes
(fixed seed) gives a memory a bucket of sign bits; recall takes the thoughts whose bucket lies
within `probe` bits of the query's in any table, then ranks them by cosine fused with their
keyword (BM25) rank (`rank=cosine`: cosine alone). One table with one-bit probing kept about
a tenth of the thoughts, and with them most answers out of the ranking: a thought and a
question about it often differ in two or more of six signs. A thought keeps who said it:
"I'm starting a studio" is (speaker, starting, a studio), and a sentence without a readable
verb is (speaker, says, sentence), never ("My", "store", …).
"""

from __future__ import annotations

import re

import numpy as np

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy, ops
from memcli.strategy.statements import is_person, named_person, statements
from memcli.strategy.text import SINGLE_VALUED, sentences

TRIPLES_SCHEMA = {"type": "object", "properties": {"thoughts": {"type": "array", "items": {
    "type": "object", "properties": {"subject": {"type": "string"}, "relation": {"type": "string"},
                                     "object": {"type": "string"}}, "required": ["subject", "relation", "object"]}}},
    "required": ["thoughts"]}
_NEGATION = re.compile(r"\b(no longer|not anymore|anymore|stopped|quit)\b", re.I)
_NEGATION_WORDS = re.compile(r"\b(?:no longer|not|anymore|don't|do not|stopped|quit)\b\s*", re.I)
# "I went to …", "I'm starting …", "I am training …", "We've been …": the speaker, a verb, the rest
_SVO = re.compile(r"^(?:i|we)(?:['’](?:m|ve|d|ll|re))?\s+(?:(?:am|are|was|were)\s+(?=\w+ing\b))?"
                  r"(?:(?:really|now|also|still|just|finally|recently)\s+)?([a-z']+)\s+(.+)$", re.I)
# "Mia painted a sunrise": a named subject, a verb, the rest
_NAMED_SVO = re.compile(r"^((?:[A-Z][\w'’-]*\s+)*[A-Z][\w'’-]*)\s+(?:(?:really|now|also|still|just|finally|"
                        r"recently)\s+)?([a-z']+)\s+(.+)$")


class ThinkInMemory(Strategy):
    name = "tim"
    description = "Stores post-response thoughts as triples with insert/forget/merge; recall via LSH buckets."
    paper = "Think-in-Memory (Liu et al., 2023): Recalling and post-thinking enable LLMs with long-term memory"
    params = (
        Param("planes", int, 6, "LSH hyperplanes per table (2^planes buckets).", min=1, max=16),
        Param("tables", int, 8, "LSH tables; a thought is a candidate if any table puts it near the query.",
              min=1, max=32),
        Param("seed", int, 7, "Seed of the LSH hyperplanes.", min=0),
        Param("probe", int, 1, "Also search buckets within this Hamming distance.", min=0, max=3),
        Param("rank", str, "hybrid", "How the thoughts LSH found are ranked: cosine, or cosine fused with "
              "keyword (BM25) ranks by reciprocal rank fusion.", choices=("hybrid", "cosine")),
    )

    def _planes(self, dim: int) -> np.ndarray:
        """(tables, planes, dim); table 0 is the single table of earlier versions (same seed, drawn first)."""
        rng = np.random.default_rng(self.p["seed"])
        return np.stack([rng.standard_normal((self.p["planes"], dim)) for _ in range(self.p["tables"])])

    def buckets(self, vector: np.ndarray) -> list[int]:
        """The vector's bucket in each table: its sign bits as an integer."""
        bits = (self._planes(len(vector)) @ vector) > 0
        return [int(sum(1 << i for i, b in enumerate(row) if b)) for row in bits]

    def bucket(self, vector: np.ndarray) -> int:
        return self.buckets(vector)[0]

    def _near(self, memory, query: list[int]) -> bool:
        """Within `probe` bits of the query's bucket in some table (a thought stored before the
        tables existed has table 0's bucket only)."""
        held = memory.metadata.get("buckets") or [memory.metadata.get("bucket", 0)]
        return any(bin(int(b) ^ q).count("1") <= self.p["probe"] for b, q in zip(held, query))

    # -- thoughts --------------------------------------------------------------------------

    def _triples(self, turn, text: str, view) -> list[tuple[str, str, str]]:
        return view.ask_json(
            "Write what you learned about the speaker as triples.", text, TRIPLES_SCHEMA, max_tokens=192,
            read=lambda out: [(t["subject"], t["relation"], t["object"]) for t in out.get("thoughts", [])
                              if t.get("relation") and t.get("object")],
            fallback=lambda why: self._rule_triples(turn, text))

    @staticmethod
    def _rule_triples(turn, text: str) -> list[tuple[str, str, str]]:
        speaker = turn.speaker or "User"
        triples = []
        for f in statements(text, speaker, turn.ts):
            if f.slot in SINGLE_VALUED and f.value:  # residence, job, …: a merge replaces the value
                triples.append((speaker, f.slot, f.value))
                continue
            body = f.text.split(": ", 1)[1]
            mine, named = _SVO.match(body), _NAMED_SVO.match(body)
            if mine:
                triples.append((speaker, mine.group(1).lower(), mine.group(2).strip()))
            elif named and named_person(body) in named.group(1).split():  # not "My store is open", "Lost my job"
                triples.append((named.group(1), named.group(2).lower(), named.group(3).strip()))
            else:
                triples.append((speaker, "says", body))
        return triples

    def extract(self, turn, view):
        if not is_person(turn.role, turn.speaker):
            return []
        # a negated statement ("I no longer work as a nurse") is read without its negation and
        # marked, so that consolidation can forget the thought it contradicts; the rules read
        # each sentence on its own, so that one negation does not mark the rest of the message
        out = []
        for part in [turn.text] if view.model is not None else sentences(turn.text):
            negated = bool(_NEGATION.search(part))
            text = _NEGATION_WORDS.sub("", part) if negated else part
            out += [Candidate(f"{s} — {r} — {o}", kind="thought", sources=(turn.seq,),
                              metadata={"subject": s, "relation": r, "object": o, "negated": negated,
                                        "key": f"{s} {r} {o}"})
                    for s, r, o in self._triples(turn, text, view)]
        return out

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            meta = dict(c.metadata)
            same = [m for m in view.with_metadata("subject", meta["subject"])
                    if m.metadata.get("relation") == meta["relation"]]
            vector = view.embed([meta["key"]])[0]
            meta["buckets"] = self.buckets(vector)
            meta["bucket"] = meta["buckets"][0]
            if meta.pop("negated"):
                held = [m for m in same if m.metadata.get("object", "").lower() == meta["object"].lower()]
                if held:
                    out.append(ops.Archive(memory_id=held[-1].id, reason="forget: the speaker negated it"))
                else:
                    out.append(ops.Noop(reason=f"negation of a thought not held: {c.text}"))
            elif same and same[-1].metadata.get("object", "").lower() == meta["object"].lower():
                out.append(ops.Noop(memory_id=same[-1].id, reason="thought already held"))
            elif same and meta["relation"] in SINGLE_VALUED:
                out.append(ops.Update(memory_id=same[-1].id, text=c.text, metadata=meta, sources=c.sources,
                                      reason=f"merge: {meta['relation']} is now {meta['object']}"))
            else:
                out.append(ops.Add(text=c.text, kind="thought", sources=c.sources, metadata=meta, reason="insert"))
        return out

    # -- recall ----------------------------------------------------------------------------

    def retrieve(self, query, view, k):
        memories = view.memories()
        if not memories:
            return Retrieval([])
        qv = view.embed([query])[0]
        qbs = self.buckets(qv)
        qb = qbs[0]
        near = [m for m in memories if self._near(m, qbs)]
        pool = near if len(near) >= k else memories
        vectors = view.vectors([m.id for m in pool])
        cosine = {m.id: float(vectors[m.id] @ qv) for m in pool if m.id in vectors}
        score = dict(cosine)
        if self.p["rank"] == "hybrid":
            # reciprocal rank fusion (k=60) of the cosine ranking and the keyword ranking, both
            # restricted to the thoughts LSH found
            by_cosine = sorted(cosine, key=lambda i: -cosine[i])
            by_keyword = [h.memory_id for h in view.search(query, k=min(len(memories), 4 * len(cosine)),
                                                           mode="keyword") if h.memory_id in cosine]
            score = {i: 1 / (60 + r) for r, i in enumerate(by_cosine, 1)}
            for r, i in enumerate(by_keyword, 1):
                score[i] += 1 / (60 + r)
        scored = sorted(((score[m.id], m) for m in pool if m.id in score), key=lambda sm: (-sm[0], sm[1].created_seq))
        hits = [Hit(m.id, m.text, s, {"vector": cosine[m.id], "bucket_match": float(m.metadata.get("bucket") == qb)},
                    tuple(m.sources)) for s, m in scored]
        return Retrieval(hits[:k], near_misses=hits[k:k + 5],
                         note=f"LSH bucket {qb:0{self.p['planes']}b} (+{len(qbs) - 1} tables, probe {self.p['probe']}): "
                              f"{len(near)} of {len(memories)} thoughts")
