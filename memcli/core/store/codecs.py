"""Row codecs: the tables' columns, and how records become DuckDB rows and come back.

The columns are derived from the records themselves (`Event`, `Memory`, `MemoryVersion`): one
definition for the migrations' `CREATE TABLE`, the Arrow schemas the writer inserts with and the
decoders the reads use. Python types map to DuckDB types (`int` is BIGINT unless the field's
metadata says `{"sql": "INTEGER"}`, `X | None` is nullable, dicts are JSON). A field added to a
record therefore needs a migration step that adds its column (tests/test_schema.py checks that
a migrated database has exactly the derived columns).

Times are stored as naive UTC and come back aware; JSON comes back through `json.loads`, so a
record handed out from a pending write batch (`as_read`) is exactly what the table would give.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable

import duckdb

from memcli.core.events import Event, Kind
from memcli.core.projection import Key, Memory, MemoryVersion

# Python annotation → DuckDB type (annotations are strings: `from __future__ import annotations`).
_SQL = {"str": "VARCHAR", "Kind": "VARCHAR", "float": "DOUBLE", "bool": "BOOLEAN", "int": "BIGINT",
        "datetime": "TIMESTAMP", "list[int]": "BIGINT[]", "dict[str, Any]": "JSON"}
# DuckDB type → Arrow type name (pyarrow is imported on first write: ~0.15 s that reads do not need).
_ARROW = {"VARCHAR": "string", "JSON": "string", "DOUBLE": "float64", "BOOLEAN": "bool_", "BIGINT": "int64",
          "INTEGER": "int32", "TIMESTAMP": "timestamp", "BIGINT[]": "list_int64"}


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    nullable: bool
    primary: bool = False

    def ddl(self) -> str:
        return f"{self.name} {self.sql}" + (" PRIMARY KEY" if self.primary else "" if self.nullable else " NOT NULL")


@dataclass(frozen=True)
class Table:
    """A table whose rows are one record type: its columns derived from the record's fields."""

    name: str
    record: type
    dumps: Callable[[Any], str]  # how its JSON columns are written

    @functools.cached_property
    def columns(self) -> tuple[Column, ...]:
        out = []
        for f in dataclasses.fields(self.record):
            hint = str(f.type).replace(" ", "")
            nullable = hint.endswith("|None")
            base = hint.removesuffix("|None").replace(",", ", ")
            out.append(Column(f.name, f.metadata.get("sql", _SQL[base]), nullable, f.metadata.get("primary", False)))
        return tuple(out)

    @functools.cached_property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @functools.cached_property
    def select(self) -> str:
        """The column list of a SELECT that `decode` reads."""
        return ", ".join(self.names)

    def ddl(self) -> str:
        return f"CREATE TABLE {self.name} (\n    " + ",\n    ".join(c.ddl() for c in self.columns) + "\n);"

    @functools.cached_property
    def arrow_schema(self) -> Any:
        import pyarrow as pa

        types = {"string": pa.string(), "float64": pa.float64(), "bool_": pa.bool_(), "int64": pa.int64(),
                 "int32": pa.int32(), "timestamp": pa.timestamp("us"), "list_int64": pa.list_(pa.int64())}
        return pa.schema([(c.name, types[_ARROW[c.sql]]) for c in self.columns])

    @functools.cached_property
    def _kinds(self) -> tuple[list[str], list[str], list[str], list[str]]:
        by = lambda *types: [c.name for c in self.columns if c.sql in types]  # noqa: E731
        enums = [f.name for f in dataclasses.fields(self.record) if str(f.type) == "Kind"]
        return by("TIMESTAMP"), by("JSON"), by("BIGINT[]"), enums

    def encode(self, record: Any) -> dict[str, Any]:
        times, jsons, _, enums = self._kinds
        row = {n: getattr(record, n) for n in self.names}
        for n in times:
            row[n] = naive_utc(row[n]) if row[n] is not None else None
        for n in jsons:
            row[n] = self.dumps(row[n])
        for n in enums:
            row[n] = row[n].value if isinstance(row[n], Enum) else row[n]
        return row

    def decode(self, row: tuple) -> Any:
        times, jsons, lists, enums = self._kinds
        d = dict(zip(self.names, row))
        for n in times:
            d[n] = aware(d[n])
        for n in jsons:
            d[n] = json.loads(d[n])
        for n in lists:
            d[n] = list(d[n])
        for n in enums:
            d[n] = Kind(d[n])
        return self.record(**d)

    def as_read(self, record: Any) -> Any:
        """A record of a pending batch as the table would give it back (UTC times, JSON round trip)."""
        row = self.encode(record)
        return self.decode(tuple(row[n] for n in self.names))

    def insert(self, con: duckdb.DuckDBPyConnection, records: list[Any],
               encoded: list[dict[str, Any]] | None = None) -> None:
        """Insert records (or rows already encoded) with one Arrow scan."""
        rows = encoded if encoded is not None else [self.encode(r) for r in records]
        if not rows:
            return
        import pyarrow as pa

        arrow = pa.Table.from_pylist(rows, schema=self.arrow_schema)  # noqa: F841  (DuckDB reads it by name)
        con.execute(f"INSERT INTO {self.name} SELECT * FROM arrow")


def naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts


def aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=timezone.utc) if ts is not None and ts.tzinfo is None else ts


def _payload_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _metadata_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


EVENTS = Table("events", Event, _payload_json)
MEMORIES = Table("memories", Memory, _metadata_json)
VERSIONS = Table("memory_versions", MemoryVersion, _metadata_json)


def key_table(con: duckdb.DuckDBPyConnection, keys: list[Key]) -> None:
    """The temp table _keys holding `keys` (one Arrow scan: executemany costs a statement per key)."""
    import pyarrow as pa

    arrow = pa.table({"namespace": [k[0] for k in keys], "id": [k[1] for k in keys]},  # noqa: F841
                     schema=pa.schema([("namespace", pa.string()), ("id", pa.string())]))
    con.execute("CREATE OR REPLACE TEMP TABLE _keys AS SELECT namespace, id FROM arrow")
