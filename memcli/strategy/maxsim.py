"""A memory scored by its best-matching sentence (max-sim), for fusion with the turn-level rankings.

One vector per turn averages a long turn's sentences together: "Nice! I went camping with my
kids last week, we saw a meteor shower. How's work?" is a poor match for "When did Melanie see
a meteor shower?", while its middle sentence alone is a good one (Lexical–Dense Fusion, 2026:
scoring a passage by its best sentence and fusing with BM25 beats one vector per passage).

The sentence vectors are computed at retrieval time, once per memory (cached by id and text,
per embedder), so a strategy keeps one `SentenceVectors` for its lifetime: the first question
embeds every memory's sentences, later ones only the memories added since.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memcli.strategy.text import sentence_units

if TYPE_CHECKING:
    import numpy as np

    from memcli.core.projection import Memory
    from memcli.strategy.view import MemoryView

RRF_K = 60  # reciprocal rank fusion's constant, as in the index's hybrid search


class SentenceVectors:
    """Unit vectors of each memory's sentences; `ranking` orders memories by their best sentence."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str], np.ndarray] = {}  # (embedder, id, text) -> (sentences, dim)

    def _texts(self, memory: Memory) -> list[str]:
        """The sentences to embed, each after its speaker's name ("Ana: I went …") when the text starts with one."""
        who, sep, said = memory.text.partition(": ")
        if not sep or " " in who.strip():  # no "Speaker: " in front
            return sentence_units(memory.text)
        return [f"{who}: {s}" for s in sentence_units(said)]  # with the name: questions name the person (0.771 vs 0.741)

    def ranking(self, view: MemoryView, memories: list[Memory], query_vector: np.ndarray,
                depth: int) -> list[tuple[str, float]]:
        """The `depth` memories whose best sentence is nearest the query: (id, cosine), best first."""
        import numpy as np

        embedder = view.embedder_id
        missing = [m for m in memories if (embedder, m.id, m.text) not in self._cache]
        if missing:
            parts = [self._texts(m) for m in missing]
            flat = [s for p in parts for s in p]
            vectors = view.embed(flat) if flat else np.zeros((0, len(query_vector)))
            at = 0
            for m, p in zip(missing, parts):
                self._cache[(embedder, m.id, m.text)] = np.asarray(vectors[at:at + len(p)], dtype=np.float32)
                at += len(p)
        best = [(m.id, float((self._cache[(embedder, m.id, m.text)] @ query_vector).max(initial=-1.0)))
                for m in memories]
        best.sort(key=lambda item: -item[1])
        return best[:depth]
