"""Ranking: the in-memory mirror of a table's vectors (exact cosine top-k) and the reciprocal rank
fusion of the vector and keyword rankings (k=60, as LanceDB's RRFReranker does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memcli.errors import MemcliError
from memcli.index.blas import one_blas_thread

SEARCH_MODES = ("hybrid", "vector", "keyword")


class SearchModeError(MemcliError, ValueError):
    """An unknown search mode (a user's --mode)."""


@dataclass(frozen=True)
class SearchHit:
    id: str
    text: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)


RRF_K = 60


class Mirror:
    """The ids, texts and unit vectors of one table, as numpy arrays."""

    def __init__(self, ids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        self.ids, self.texts, self.vectors = ids, texts, vectors

    def remove(self, ids: set[str]) -> None:
        keep = [i for i, x in enumerate(self.ids) if x not in ids]
        if len(keep) != len(self.ids):
            self.ids = [self.ids[i] for i in keep]
            self.texts = [self.texts[i] for i in keep]
            self.vectors = self.vectors[keep]

    def extend(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.ids += [r["id"] for r in rows]
            self.texts += [r["text"] for r in rows]
            self.vectors = np.vstack([self.vectors, np.stack([r["vector"] for r in rows])])

    def top(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.ids:
            return []
        with one_blas_thread():  # see blas.py: a second BLAS thread was the search's p95 jitter
            sims = self.vectors @ query
        k = min(k, len(sims))
        best = np.argpartition(-sims, k - 1)[:k]
        return [(int(i), float(sims[i])) for i in best[np.argsort(-sims[best], kind="stable")]]


def fuse(mirror: Mirror, vector_hits: list[tuple[int, float]], keyword_hits: list[tuple[str, str, float]],
         k: int) -> list[SearchHit]:
    """The top k of both rankings by reciprocal rank fusion; ties by id (deterministic)."""
    fused: dict[str, dict[str, float]] = {}
    texts: dict[str, str] = {}
    for rank, (i, sim) in enumerate(vector_hits):
        fused[mirror.ids[i]] = {"vector": sim, "rrf": 1.0 / (RRF_K + rank + 1)}
        texts[mirror.ids[i]] = mirror.texts[i]
    for rank, (mid, text, score) in enumerate(keyword_hits):
        parts = fused.setdefault(mid, {"rrf": 0.0})
        parts["keyword"] = score
        parts["rrf"] += 1.0 / (RRF_K + rank + 1)
        texts[mid] = text
    ranked = sorted(fused.items(), key=lambda kv: (-kv[1]["rrf"], kv[0]))[:k]
    return [SearchHit(mid, texts[mid], parts["rrf"], parts) for mid, parts in ranked]
