"""Export and import of the event log (the source of truth) as JSONL or Parquet.

An import goes into an empty data dir, keeps every event exactly (sequence, time,
session, batch, payload) and rebuilds the projections from it, so export → import
reproduces the same memories and the same events.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memcli.core.events import Event, Kind
from memcli.core.projection import ProjectionState, apply_event, fold_problem
from memcli.core.store.codecs import EVENTS
from memcli.core.store.files import StoreError
from memcli.core.store.log import EventStore

FIELDS = tuple(EVENTS.names)


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


END = "memcli_export"  # the last JSONL line: {"memcli_export": 1, "events": N}; a file without it was cut short


def export_events(store: EventStore, path: Path) -> int:
    events = store.events()
    fmt = _fmt(path)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "jsonl":
        with tmp.open("w", encoding="utf-8") as f:
            for e in events:
                f.write(json.dumps(_record(e), ensure_ascii=False) + "\n")
            f.write(json.dumps({END: 1, "events": len(events)}) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [{**_record(e), "payload": json.dumps(e.payload, ensure_ascii=False)} for e in events]
        schema = pa.schema([(k, pa.int64() if k in ("seq", "batch") else pa.string()) for k in FIELDS])
        schema = schema.with_metadata({END: json.dumps({"events": len(events)})})
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(path)
    return len(events)


def _records(path: Path) -> tuple[list[tuple[str, Any]], Any]:
    """(where, raw record) for every event, and the event count the file's end marker gives."""
    records: list[tuple[str, Any]] = []
    if _fmt(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a bad file
            raise StoreError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0]}") from None
        try:
            count = json.loads((table.schema.metadata or {})[END.encode()])["events"]
        except (KeyError, ValueError, TypeError):
            count = None
        for n, row in enumerate(table.to_pylist(), 1):
            try:
                row["payload"] = json.loads(row.get("payload") or "{}")
            except (TypeError, json.JSONDecodeError, RecursionError):
                raise StoreError(f"{path}: row {n}: payload is not JSON") from None
            records.append((f"row {n}", row))
        return records, count
    count = None
    try:
        with path.open(encoding="utf-8-sig") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                if count is not None:
                    raise StoreError(f"{path}: line {n}: events after the end marker")
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise StoreError(f"{path}: line {n}: not JSON: {exc.msg}") from None
                except RecursionError:
                    raise StoreError(f"{path}: line {n}: nested too deeply") from None
                if isinstance(raw, dict) and END in raw:
                    count = raw.get("events")
                    continue
                records.append((f"line {n}", raw))
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not UTF-8 text (a memcli export is UTF-8 JSON lines)") from None
    return records, count


def _event(where: str, raw: Any, expected_seq: int) -> Event:
    if not isinstance(raw, dict):
        raise StoreError(f"{where}: an event is a JSON object, not {type(raw).__name__}")
    missing = [k for k in FIELDS if k not in raw]
    if missing:
        raise StoreError(f"{where}: missing {', '.join(missing)}")
    for name in ("seq", "batch"):
        if not isinstance(raw[name], int) or isinstance(raw[name], bool):
            raise StoreError(f"{where}: {name} must be a whole number, not {raw[name]!r}")
    for name in ("session_id", "namespace", "memory_id"):
        if raw[name] is not None and not isinstance(raw[name], str):
            raise StoreError(f"{where}: {name} must be text or null")
    if not isinstance(raw["actor"], str):
        raise StoreError(f"{where}: actor must be text")
    try:
        ts = datetime.fromisoformat(raw["ts"])
        kind = Kind(raw["kind"])
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{where}: {exc}") from None
    if raw["seq"] != expected_seq:
        raise StoreError(f"{where}: event #{raw['seq']} where #{expected_seq} was expected (gap or disorder)")
    if not isinstance(raw["payload"], dict):
        raise StoreError(f"{where}: payload must be an object")
    try:
        json.dumps(raw["payload"], allow_nan=False)
    except ValueError:
        raise StoreError(f"{where}: payload holds NaN or infinity, which JSON cannot store") from None
    return Event(raw["seq"], ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc), raw["session_id"], kind,
                 raw["actor"], raw["namespace"], raw["memory_id"], raw["payload"], raw["batch"])


def read_export(path: Path) -> list[Event]:
    """Every event of an export, validated as a whole before anything is written: well-formed
    records, gap-free sequence, complete batches (the file's end marker counts them), and memory
    events that fold cleanly (no update of a memory that was never added, no text missing)."""
    records, count = _records(path)
    events = [_event(where, raw, n) for n, (where, raw) in enumerate(records, 1)]
    if not isinstance(count, int) or isinstance(count, bool):
        raise StoreError(f"{path}: no end marker: the file was cut short or not written by `memcli export`")
    if count != len(events):
        raise StoreError(f"{path}: the end marker counts {count} events but the file has {len(events)}: it is "
                         "incomplete")
    state = ProjectionState()
    for i, e in enumerate(events):
        if e.batch > e.seq or (i and e.batch not in (e.seq, events[i - 1].batch)):
            raise StoreError(f"{path}: event #{e.seq}: batch {e.batch} is not the first event of its batch")
        problem = fold_problem(state, e)
        if problem:
            raise StoreError(f"{path}: event #{e.seq} ({e.kind.value}): {problem}")
        apply_event(state, e)
    return events


def import_events(store: EventStore, events: list[Event]) -> int:
    """Load validated events (see `read_export`) into an empty store (all or nothing), then rebuild."""
    if store.last_seq:
        raise StoreError(f"{store.path.parent} already has {store.last_seq} events: import into an empty data dir")
    store.load_events(events)
    store.rebuild()
    return len(events)
