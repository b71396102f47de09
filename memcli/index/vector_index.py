"""One LanceDB table per memory namespace, kept in sync from the event log.

The index is a projection: `sync` replays the memory events it has not seen
yet (the watermark lives next to the tables and only moves after the tables
were written, so a crash between the two just repeats an idempotent step),
and `rebuild` recreates a table from the projection. Search is LanceDB's own:
flat cosine vector search, its native full-text (BM25) index, and hybrid
search fused with its RRF reranker.

Every one-row append is a new Lance fragment; `compact_every` appends trigger
`optimize()`, which compacts fragments and folds new rows into the FTS index.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memcli.core.events import Kind
from memcli.core.projection import ACTIVE
from memcli.embed.embedder import Embedder, text_hash

if TYPE_CHECKING:
    from memcli.core.store import EventStore

# Events that change what a table holds (text or whether the memory is searchable).
INDEXED_KINDS = [
    k.value
    for k in (
        Kind.MEMORY_ADDED, Kind.MEMORY_UPDATED, Kind.MEMORY_EDITED, Kind.MEMORY_MERGED,
        Kind.MEMORY_ARCHIVED, Kind.MEMORY_RESTORED, Kind.MEMORY_DELETED, Kind.MEMORY_QUARANTINED,
    )
]
SEARCH_MODES = ("hybrid", "vector", "keyword")


@dataclass(frozen=True)
class SearchHit:
    id: str
    text: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)


def table_name(namespace: str) -> str:
    return "ns_" + re.sub(r"[^A-Za-z0-9_]", "_", namespace)


class VectorIndex:
    def __init__(self, path: Path, store: "EventStore", embedder: Embedder, *, compact_every: int = 64) -> None:
        os.environ.setdefault("LANCEDB_LOG", "error")
        import lancedb  # heavy-ish; only when the index is first used

        self.path = path
        self.store = store
        self.embedder = embedder
        self.compact_every = compact_every
        path.mkdir(parents=True, exist_ok=True)
        self._db = lancedb.connect(str(path))
        self._state_file = path / "state.json"
        self._lock = threading.RLock()
        self._tables: dict[str, Any] = {}

    # -- watermark -------------------------------------------------------------------------

    def _state(self) -> dict[str, dict[str, int]]:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, dict[str, int]]) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True))
        os.replace(tmp, self._state_file)

    def watermark(self, namespace: str) -> int:
        return self._state().get(namespace, {}).get("seq", 0)

    # -- tables ----------------------------------------------------------------------------

    def _table(self, namespace: str):
        name = table_name(namespace)
        if name not in self._tables:
            try:
                self._tables[name] = self._db.open_table(name)
            except (FileNotFoundError, ValueError):
                return None
        return self._tables[name]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings through the store's cache: each text is embedded once per model."""
        model = self.embedder.model_id
        hashes = [text_hash(t) for t in texts]
        cached = self.store.cached_vectors(model, sorted(set(hashes)))
        missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cached}.items())
        if missing:
            fresh = self.embedder.embed([t for _, t in missing])
            new = {h: v.tolist() for (h, _), v in zip(missing, fresh)}
            self.store.put_vectors(model, new)
            cached.update(new)
        return np.asarray([cached[h] for h in hashes], dtype=np.float32).reshape(len(texts), -1)

    def _rows(self, memories: list) -> list[dict[str, Any]]:
        vectors = self._vectors([m.text for m in memories])
        return [{"id": m.id, "text": m.text, "vector": v} for m, v in zip(memories, vectors)]

    def _create(self, namespace: str, rows: list[dict[str, Any]]):
        import pyarrow as pa

        schema = pa.schema(
            [("id", pa.string()), ("text", pa.string()), ("vector", pa.list_(pa.float32(), self.embedder.dim))]
        )
        table = self._db.create_table(table_name(namespace), data=rows or None, schema=schema, mode="overwrite")
        from lancedb.index import FTS

        table.create_index("text", config=FTS(), replace=True)
        self._tables[table_name(namespace)] = table
        return table

    # -- keeping up with the log -----------------------------------------------------------

    def sync(self, namespace: str) -> int:
        """Apply memory events newer than the watermark; returns how many memories changed."""
        with self._lock:
            state = self._state()
            ns_state = state.setdefault(namespace, {"seq": 0, "appends": 0})
            if self._table(namespace) is None:
                self.rebuild([namespace])
                return len(self.store.memories(namespace))
            last = self.store.last_seq
            if ns_state["seq"] >= last:
                return 0
            events = self.store.events(since=ns_state["seq"], namespace=namespace, kinds=INDEXED_KINDS)
            ids = sorted({e.memory_id for e in events if e.memory_id})
            table = self._table(namespace)
            if ids:
                current = [self.store.memory(namespace, i) for i in ids]
                table.delete("id IN (" + ", ".join("'" + i.replace("'", "''") + "'" for i in ids) + ")")
                active = [m for m in current if m is not None and m.status == ACTIVE]
                if active:
                    table.add(self._rows(active))
                ns_state["appends"] = ns_state.get("appends", 0) + 1
                if ns_state["appends"] >= self.compact_every:
                    self.compact(namespace)
                    ns_state["appends"] = 0
            ns_state["seq"] = last
            self._save_state(state)
            return len(ids)

    def compact(self, namespace: str) -> None:
        """Merge small fragments and fold new rows into the full-text index.

        Versions older than ten minutes are cleaned up; a reader in another
        process is never that far behind.
        """
        from datetime import timedelta

        table = self._table(namespace)
        if table is not None:
            table.optimize(cleanup_older_than=timedelta(minutes=10))

    def rebuild(self, namespaces: list[str]) -> None:
        with self._lock:
            state = self._state()
            for ns in namespaces:
                active = self.store.memories(ns, statuses=[ACTIVE])
                self._create(ns, self._rows(active))
                state[ns] = {"seq": self.store.last_seq, "appends": 0}
            self._save_state(state)

    def count(self, namespace: str) -> int:
        table = self._table(namespace)
        return 0 if table is None else table.count_rows()

    # -- search ----------------------------------------------------------------------------

    def search(self, namespace: str, query: str, *, k: int = 10, mode: str = "hybrid") -> list[SearchHit]:
        if mode not in SEARCH_MODES:
            raise ValueError(f"search mode must be one of {', '.join(SEARCH_MODES)}")
        table = self._table(namespace)
        if table is None or not query.strip():
            return []
        if mode == "keyword":
            rows = table.search(query, query_type="fts").limit(k).to_list()
            return [SearchHit(r["id"], r["text"], float(r["_score"]), {"keyword": float(r["_score"])}) for r in rows]
        vector = self.embedder.embed([query])[0]
        if mode == "vector":
            rows = table.search(vector).distance_type("cosine").limit(k).to_list()
            return [
                SearchHit(r["id"], r["text"], 1.0 - float(r["_distance"]), {"vector": 1.0 - float(r["_distance"])})
                for r in rows
            ]
        from lancedb.rerankers import RRFReranker

        rows = (
            table.search(query_type="hybrid")
            .vector(vector)
            .text(query)
            .distance_type("cosine")
            .limit(k)
            .rerank(RRFReranker(return_score="all"))
            .to_list()
        )
        hits = []
        for r in rows:
            parts = {"rrf": float(r["_relevance_score"])}
            if r.get("_distance") is not None:
                parts["vector"] = 1.0 - float(r["_distance"])
            if r.get("_score") is not None:
                parts["keyword"] = float(r["_score"])
            hits.append(SearchHit(r["id"], r["text"], parts["rrf"], parts))
        return hits[:k]
