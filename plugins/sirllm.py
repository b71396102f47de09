"""sirllm: key phrases whose tokens the model finds surprising, with a per-turn decay ratio.

SirLLM (Yao et al., 2024): a token's entropy is -log p(token | the tokens before it) under
the model; the tokens with high entropy are the key information to keep, and every kept
item's score is multiplied by a decay ratio at each turn, so that memory lasts but old items
give way to new ones when the bank is full.

Here the unit is a phrase (a name of up to four capitalised words, or one content word), scored by the highest
surprisal among its tokens under the configured chat model: one forward pass per message
(`view.surprisal`, llama-cpp-python's log-probabilities), so the real model is used even
when it is the embedded SmolLM2-135M. A phrase at or above the entropy threshold is added
with its entropy as strength; said again, it is reinforced (strength + new entropy). After
each message every kept phrase decays (strength × ratio, a `memory.decayed` event each, so
the live feed shows phrases losing weight); a phrase whose weight falls below `min_weight`,
or the weakest beyond `phrases_kept`, is archived. Retrieval: hybrid search over the phrase
and the sentence it came from (a fixed pool of `candidates`, whatever k); a phrase's weight decides
what is kept, and scales the search score only as much as `weight_influence` says (default 0).
"""

from __future__ import annotations

import re

from memcli.strategy import Candidate, Hit, Param, Retrieval, Strategy, ops
from memcli.strategy.text import STOPWORDS, sentences

_TOKEN = re.compile(r"[A-Za-zÀ-ÿ0-9][\w'’-]*|[^\w\s]")


def phrases(text: str, max_words: int = 4) -> list[tuple[str, int, int]]:
    """Candidate key phrases with their character spans: a run of capitalised words (a name, "New
    York City", up to max_words) is one phrase; every other content word is a phrase of its own."""
    out: list[tuple[str, int, int]] = []
    run: list[re.Match] = []

    def close() -> None:
        if run:
            out.append((text[run[0].start():run[-1].end()], run[0].start(), run[-1].end()))
            run.clear()

    for m in _TOKEN.finditer(text):
        word = m.group()
        content = word[0].isalnum() and word.lower() not in STOPWORDS
        if not content or not word[0].isupper() or len(run) == max_words:
            close()
        if content and word[0].isupper():
            run.append(m)
        elif content:
            out.append((word, m.start(), m.end()))
    close()
    return out


class SirLLM(Strategy):
    name = "sirllm"
    description = ("Key phrases with high token entropy (-log p under the chat model) are kept; every kept "
                   "phrase's weight is multiplied by a decay ratio each turn.")
    paper = "SirLLM (Yao et al., 2024): Streaming infinite retentive LLM"
    params = (
        Param("phrases_kept", int, 200, "Most phrases kept active; the weakest beyond this are archived.",
              min=1, max=100000),
        Param("decay_ratio", float, 0.9, "Every kept phrase's weight is multiplied by this after each message.",
              min=0.0, max=1.0),
        Param("entropy_threshold", float, 8.0, "A phrase is kept when its most surprising token has at least "
              "this surprisal, in nats (SmolLM2-135M: names and numbers ≈ 9-16, common words ≈ 1-6).",
              min=0.0, max=50.0),
        Param("per_message", int, 4, "Most phrases kept from one message (the most surprising).", min=1, max=50),
        Param("min_weight", float, 0.05, "A phrase whose weight decays below this is archived.", min=0.0),
        Param("roles", str, "both", "Whose messages phrases are taken from.", choices=("both", "user")),
        Param("candidates", int, 50, "Phrases the search returns before they are ranked; the same for every k "
              "(at least k), so a deeper k only adds hits below the shallower ranking.", min=1, max=1000),
        Param("weight_influence", float, 0.0, "How much a phrase's weight share scales its search score "
              "(× (1 - w + w · share)); 0: the weight decides only what is kept. At 0.5 the most reinforced "
              "phrase topped every LoCoMo question (docs/benchmarks.md).", min=0.0, max=1.0),
    )

    def extract(self, turn, view):
        if self.p["roles"] == "user" and turn.role != "user":
            return []
        prefix = f"{turn.who}: "
        tokens = view.surprisal(prefix + turn.text)  # the one scoring pass of this message
        scored = []
        for phrase, start, end in phrases(turn.text):
            start, end = start + len(prefix), end + len(prefix)
            inside = [t.surprisal for t in tokens if t.start < end and t.start + len(t.text) > start]
            if inside and max(inside) >= self.p["entropy_threshold"]:
                scored.append((max(inside), phrase, start - len(prefix)))
        scored.sort(key=lambda s: (-s[0], s[2]))
        out = []
        for entropy, phrase, at in scored[: self.p["per_message"]]:
            sentence = next((s for s in sentences(turn.text) if phrase in s), turn.text)
            out.append(Candidate(f"{turn.who}: {phrase}", kind="phrase", importance=min(1.0, entropy / 20),
                                 sources=(turn.seq,),
                                 metadata={"phrase": phrase.lower(), "entropy": round(entropy, 4),
                                           "key": f"{turn.who}: {phrase} | {sentence}"}))
        return out

    def consolidate(self, candidates, view):
        out: list[ops.Operation] = []
        for c in candidates:
            held = view.with_metadata("phrase", c.metadata["phrase"])
            entropy = c.metadata["entropy"]
            if held:
                m = held[0]
                out.append(ops.Reinforce(memory_id=m.id, strength=round(m.strength + entropy, 6), sources=c.sources,
                                         reason=f"said again: weight {m.strength:.2f} + entropy {entropy:.2f}",
                                         scores={"entropy": entropy, "weight_before": m.strength}))
            else:
                out.append(ops.Add(text=c.text, kind=c.kind, importance=c.importance, strength=entropy,
                                   sources=c.sources, metadata=dict(c.metadata),
                                   reason=f"token entropy {entropy:.2f} ≥ {self.p['entropy_threshold']}",
                                   scores={"entropy": entropy}))
        return out

    def decay(self, view):
        ratio, floor = self.p["decay_ratio"], self.p["min_weight"]
        out: list[ops.Operation] = []
        kept = []
        for m in view.memories():
            weight = round(m.strength * ratio, 6)
            if weight < floor and not m.pinned:
                out.append(ops.Archive(memory_id=m.id, reason=f"weight {weight:.3f} < {floor}",
                                       scores={"weight": weight}))
                continue
            if weight != m.strength:
                out.append(ops.Decay(memory_id=m.id, strength=weight, reason=f"× {ratio}",
                                     scores={"weight": weight}))
            kept.append((weight, m.created_seq, m))
        kept.sort(key=lambda w: (w[0], w[1]))
        for weight, _, m in kept[: max(0, len(kept) - self.p["phrases_kept"])]:
            if not m.pinned:
                out.append(ops.Archive(memory_id=m.id, reason=f"bank full ({self.p['phrases_kept']} phrases): "
                                       f"the weakest, weight {weight:.3f}", scores={"weight": weight}))
        return out

    def retrieve(self, query, view, k):
        # a pool that grew with k (it was k + 10) and a weight that scaled the score by up to 2× made recall@20 fall
        # below recall@5 on LoCoMo: the most reinforced phrase entered the deeper pools, topped them, and its
        # many mentions filled the cut (docs/benchmarks.md)
        found = view.search(query, k=max(self.p["candidates"], k))
        strongest = max((m.strength for m in view.memories()), default=1.0) or 1.0
        w = self.p["weight_influence"]
        hits = []
        for hit in found:
            m = view.get(hit.memory_id)
            share = (m.strength / strongest) if m is not None else 0.0
            hits.append(Hit(hit.memory_id, hit.text, hit.score * (1 - w + w * share), {**hit.parts, "weight": share},
                            hit.sources))
        hits.sort(key=lambda h: -h.score)
        return Retrieval(hits[:k], near_misses=hits[k:k + 5], note=f"search score × ({1 - w:g} + {w:g} · weight share)")
