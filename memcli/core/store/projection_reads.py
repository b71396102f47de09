"""Reads of the memory projection (the `memories` and `memory_versions` tables).

An open write batch's memories (see `memcli.core.pending`) take the place of their table rows,
handed out through the same codec as rows read back, so a read sees every append at once.
"""

from __future__ import annotations

from typing import Iterable

from memcli.core.projection import Memory, MemoryVersion, ProjectionState
from memcli.core.store.base import StoreBase
from memcli.core.store.codecs import MEMORIES, VERSIONS


class ProjectionReads(StoreBase):
    def namespaces(self) -> list[str]:
        with self._lock:
            stored = {r[0] for r in self._rows("SELECT DISTINCT namespace FROM memories")}
            return sorted(stored | ({ns for ns, _ in self._pending.state.memories} if self._pending else set()))

    def memories(self, namespace: str, statuses: Iterable[str] | None = None) -> list[Memory]:
        sql, params = f"SELECT {MEMORIES.select} FROM memories WHERE namespace = ?", [namespace]
        if statuses is not None:
            statuses = list(statuses)
            sql += f" AND status IN ({', '.join('?' * len(statuses))})"
            params.extend(statuses)
        with self._lock:
            stored = [MEMORIES.decode(r) for r in self._rows(sql + " ORDER BY created_seq", params)]
            p = self._pending
            if p is None or not p.state.memories:
                return stored
            pending = [MEMORIES.as_read(p.state.memories[k]) for k in p.keys_in(namespace)
                       if statuses is None or p.state.memories[k].status in statuses]
            kept = [m for m in stored if (namespace, m.id) not in p.state.memories]
            return sorted(kept + pending, key=lambda m: m.created_seq)

    def memory(self, namespace: str, memory_id: str) -> Memory | None:
        with self._lock:
            if self._pending is not None and (namespace, memory_id) in self._pending.state.memories:
                return MEMORIES.as_read(self._pending.state.memories[(namespace, memory_id)])
            rows = self._rows(f"SELECT {MEMORIES.select} FROM memories WHERE namespace = ? AND id = ?",
                              [namespace, memory_id])
        return MEMORIES.decode(rows[0]) if rows else None

    def memories_by_ids(self, namespace: str, ids: list[str]) -> dict[str, Memory]:
        if not ids:
            return {}
        with self._lock:
            pending = self._pending.state.memories if self._pending is not None else {}
            out = {i: MEMORIES.as_read(pending[(namespace, i)]) for i in ids if (namespace, i) in pending}
            rest = [i for i in ids if i not in out]
            if rest:
                marks = ", ".join("?" * len(rest))
                rows = self._rows(f"SELECT {MEMORIES.select} FROM memories WHERE namespace = ? AND id IN ({marks})",
                                  [namespace, *rest])
                out.update({m.id: m for m in map(MEMORIES.decode, rows)})
        return out

    def with_metadata(self, namespace: str, key: str, value: str, statuses: Iterable[str] = ("active",)) -> list[Memory]:
        """Memories whose metadata[key] == value (e.g. the current holder of a fact slot).

        A pending batch is written first: the match is DuckDB's JSON semantics."""
        statuses = list(statuses)
        self.flush()
        rows = self._rows(
            f"SELECT {MEMORIES.select} FROM memories WHERE namespace = ? AND json_extract_string(metadata, ?) = ? "
            f"AND status IN ({', '.join('?' * len(statuses))}) ORDER BY created_seq",
            [namespace, f"$.{key}", value, *statuses],
        )
        return [MEMORIES.decode(r) for r in rows]

    def versions(self, namespace: str, memory_id: str) -> list[MemoryVersion]:
        with self._lock:
            if self._pending is not None and (namespace, memory_id) in self._pending.state.memories:
                return [VERSIONS.as_read(v) for v in self._pending.state.versions.get((namespace, memory_id), [])]
        rows = self._rows(
            f"SELECT {VERSIONS.select} FROM memory_versions WHERE namespace = ? AND id = ? ORDER BY version",
            [namespace, memory_id],
        )
        return [VERSIONS.decode(r) for r in rows]

    def count_added(self, namespace: str) -> int:
        """How many memories were ever added to a namespace (ids are derived from it)."""
        with self._lock:
            p = self._pending
            if p is None:
                return self._scalar("SELECT count(*) FROM memories WHERE namespace = ?", [namespace])
            if namespace not in p.counts:  # the table does not change while a batch is open
                p.counts[namespace] = self._scalar("SELECT count(*) FROM memories WHERE namespace = ?", [namespace])
            return p.counts[namespace] + sum(1 for k in p.new_keys if k[0] == namespace)

    def projection(self) -> ProjectionState:
        """The stored projection, as folded state (for comparisons and exports)."""
        self.flush()
        state = ProjectionState()
        for r in self._rows(f"SELECT {MEMORIES.select} FROM memories"):
            m = MEMORIES.decode(r)
            state.memories[(m.namespace, m.id)] = m
        for r in self._rows(f"SELECT {VERSIONS.select} FROM memory_versions ORDER BY namespace, id, version"):
            v = VERSIONS.decode(r)
            state.versions.setdefault((v.namespace, v.id), []).append(v)
        return state
