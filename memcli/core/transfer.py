"""Export and import of the event log (the source of truth) as JSONL or Parquet.

An import goes into an empty data dir, keeps every event exactly (sequence, time,
session, batch, payload) and rebuilds the projections from it, so export → import
reproduces the same memories and the same events.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from memcli.core.events import Event, Kind
from memcli.core.store import EventStore, StoreError

FIELDS = ("seq", "ts", "session_id", "kind", "actor", "namespace", "memory_id", "payload", "batch")


def _fmt(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    raise StoreError(f"{path}: use a .jsonl or .parquet file name")


def _record(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "ts": e.ts.isoformat(), "session_id": e.session_id, "kind": e.kind.value,
            "actor": e.actor, "namespace": e.namespace, "memory_id": e.memory_id, "payload": e.payload,
            "batch": e.batch}


def export_events(store: EventStore, path: Path) -> int:
    events = store.events()
    fmt = _fmt(path)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "jsonl":
        with tmp.open("w", encoding="utf-8") as f:
            for e in events:
                f.write(json.dumps(_record(e), ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [{**_record(e), "payload": json.dumps(e.payload, ensure_ascii=False)} for e in events]
        schema = pa.schema([(k, pa.int64() if k in ("seq", "batch") else pa.string()) for k in FIELDS])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(path)
    return len(events)


def _read(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if _fmt(path) == "jsonl":
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield f"line {n}", json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise StoreError(f"{path}: line {n}: not JSON: {exc.msg}") from None
    else:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a bad file
            raise StoreError(f"{path}: not a readable Parquet file: {exc}") from None
        for n, row in enumerate(table.to_pylist(), 1):
            try:
                row["payload"] = json.loads(row.get("payload") or "{}")
            except (TypeError, json.JSONDecodeError):
                raise StoreError(f"{path}: row {n}: payload is not JSON") from None
            yield f"row {n}", row


def _event(where: str, raw: dict[str, Any], expected_seq: int) -> Event:
    missing = [k for k in FIELDS if k not in raw]
    if missing:
        raise StoreError(f"{where}: missing {', '.join(missing)}")
    try:
        ts = datetime.fromisoformat(raw["ts"])
        kind = Kind(raw["kind"])
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{where}: {exc}") from None
    if raw["seq"] != expected_seq:
        raise StoreError(f"{where}: event #{raw['seq']} where #{expected_seq} was expected (gap or disorder)")
    if not isinstance(raw["payload"], dict):
        raise StoreError(f"{where}: payload must be an object")
    return Event(int(raw["seq"]), ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc), raw["session_id"], kind,
                 str(raw["actor"]), raw["namespace"], raw["memory_id"], raw["payload"], int(raw["batch"]))


def import_events(store: EventStore, path: Path) -> int:
    """Load every event of an export into an empty store (all or nothing), then rebuild."""
    if store.last_seq:
        raise StoreError(f"{store.path.parent} already has {store.last_seq} events: import into an empty data dir")
    events = [_event(where, raw, n) for n, (where, raw) in enumerate(_read(path), 1)]
    store.load_events(events)
    store.rebuild()
    return len(events)
