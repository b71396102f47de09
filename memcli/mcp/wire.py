"""Events and memories as JSON, between the serving process and an attached workbench."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from memcli.core.events import Event, Kind
from memcli.core.projection import Memory, MemoryVersion


def event_to_dict(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "ts": e.ts.isoformat(), "session_id": e.session_id, "kind": e.kind.value,
            "actor": e.actor, "namespace": e.namespace, "memory_id": e.memory_id, "payload": e.payload,
            "batch": e.batch}


def event_from_dict(d: dict[str, Any]) -> Event:
    return Event(d["seq"], datetime.fromisoformat(d["ts"]), d["session_id"], Kind(d["kind"]), d["actor"],
                 d["namespace"], d["memory_id"], d["payload"], d["batch"])


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


_DATES = {"created_at", "last_access", "valid_from", "valid_to"}


def record_to_dict(record: Memory | MemoryVersion) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(record).items()}


def _from(cls: type, d: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: datetime.fromisoformat(v) if k in _DATES and v else v for k, v in d.items() if k in names})


def memory_from_dict(d: dict[str, Any]) -> Memory:
    return _from(Memory, d)


def version_from_dict(d: dict[str, Any]) -> MemoryVersion:
    return _from(MemoryVersion, d)
