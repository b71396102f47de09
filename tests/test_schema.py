"""The tables are derived from the records (store/codecs.py) and still match what shipped; a data
dir written before the split (schema steps 1-3, the embedding cache inside the log's file) opens."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from memcli.clock import SimulatedClock
from memcli.core import operations as ops
from memcli.core.events import Kind
from memcli.core.store.codecs import EVENTS, MEMORIES, VERSIONS
from memcli.core.store.files import DB_FILE
from memcli.core.store.log import EventStore
from memcli.engine import Engine
from memcli.settings import load_settings

# The DDL of schema steps 1-3 as they shipped (the history the derived columns must keep matching).
SHIPPED = [
    """CREATE TABLE events (seq BIGINT PRIMARY KEY, ts TIMESTAMP NOT NULL, session_id VARCHAR, kind VARCHAR NOT NULL,
       actor VARCHAR NOT NULL, namespace VARCHAR, memory_id VARCHAR, payload JSON NOT NULL, batch BIGINT NOT NULL)""",
    """CREATE TABLE memories (namespace VARCHAR NOT NULL, id VARCHAR NOT NULL, text VARCHAR NOT NULL,
       kind VARCHAR NOT NULL, status VARCHAR NOT NULL, strength DOUBLE NOT NULL, importance DOUBLE NOT NULL,
       pinned BOOLEAN NOT NULL, created_seq BIGINT NOT NULL, updated_seq BIGINT NOT NULL,
       created_at TIMESTAMP NOT NULL, last_access TIMESTAMP NOT NULL, access_count INTEGER NOT NULL,
       valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP, sources BIGINT[] NOT NULL, version INTEGER NOT NULL,
       metadata JSON NOT NULL)""",
    """CREATE TABLE memory_versions (namespace VARCHAR NOT NULL, id VARCHAR NOT NULL, version INTEGER NOT NULL,
       text VARCHAR NOT NULL, seq BIGINT NOT NULL, valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP)""",
    """CREATE TABLE embeddings (model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, vector FLOAT[] NOT NULL,
       PRIMARY KEY (model, text_hash))""",
]


def _describe(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [(r[0], r[1], r[2], r[3]) for r in con.execute(f"DESCRIBE {table}").fetchall()]  # name, type, null, key


def test_derived_tables_equal_the_shipped_ones() -> None:
    shipped, derived = duckdb.connect(), duckdb.connect()
    for sql in SHIPPED[:3]:
        shipped.execute(sql)
    for table in (EVENTS, MEMORIES, VERSIONS):
        derived.execute(table.ddl())
        assert _describe(derived, table.name) == _describe(shipped, table.name), table.name
        assert [c.name for c in table.columns] == [r[0] for r in _describe(shipped, table.name)]


def test_a_migrated_database_has_the_record_columns(tmp_path: Path) -> None:
    EventStore(tmp_path).close()
    con = duckdb.connect(str(tmp_path / DB_FILE), read_only=True)
    try:
        for table in (EVENTS, MEMORIES, VERSIONS):
            assert [r[0] for r in _describe(con, table.name)] == table.names
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "embeddings" not in tables  # the cache is the index's now
    finally:
        con.close()


def _old_data_dir(data: Path) -> None:
    """A data dir as the code before the split wrote it: steps 1-3, a memory edited once, a cached vector."""
    data.mkdir(parents=True)
    con = duckdb.connect(str(data / DB_FILE))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for sql in SHIPPED:
        con.execute(sql)
    for version, name in ((1, "event log"), (2, "memory projection"), (3, "embedding cache")):
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    t1, t2 = datetime(2026, 1, 1, 9), datetime(2026, 1, 2, 9)
    rows = [
        (1, t1, "s1", Kind.MESSAGE_USER.value, "user", None, None, {"text": "I live in Lisbon"}, 1),
        (2, t1, "s1", Kind.MEMORY_ADDED.value, "strategy:x", "x", "m1",
         {"text": "lives in Lisbon", "kind": "fact", "importance": 0.5, "strength": 1.0, "sources": [1],
          "metadata": {"key": "city"}}, 2),
        (3, t2, "s1", Kind.MEMORY_EDITED.value, "editor", "x", "m1", {"text": "lives in Porto"}, 3),
    ]
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*r[:7], json.dumps(r[7]), r[8]) for r in rows])
    con.execute("INSERT INTO memories VALUES ('x', 'm1', 'lives in Porto', 'fact', 'active', 1.0, 0.5, false, 2, 3, "
                "?, ?, 0, ?, NULL, [1], 2, '{\"key\": \"city\"}')", [t1, t1, t2])
    con.execute("INSERT INTO memory_versions VALUES ('x', 'm1', 1, 'lives in Lisbon', 2, ?, ?), "
                "('x', 'm1', 2, 'lives in Porto', 3, ?, NULL)", [t1, t2, t2])
    con.execute("INSERT INTO embeddings VALUES ('all-MiniLM-L6-v2', 'abc', [0.1, 0.2])")
    con.close()


def test_a_data_dir_written_before_the_split_opens(tmp_path: Path, embedder) -> None:
    data = tmp_path / "data"
    _old_data_dir(data)
    with Engine(load_settings(data_dir=data), clock=SimulatedClock(datetime(2026, 1, 3)), embedder=embedder) as engine:
        store = engine.store
        m = store.memory("x", "m1")
        assert (m.text, m.version, m.sources, m.metadata) == ("lives in Porto", 2, [1], {"key": "city"})
        assert [v.text for v in store.versions("x", "m1")] == ["lives in Lisbon", "lives in Porto"]
        assert store.state_as_of(store.last_seq) == store.projection()  # the stored rows read back as folded
        assert [e.seq for e in store.memory_history("x", "m1")] == [2, 3]
        assert [e.payload["text"] for e in store.source_turns(m.sources)] == ["I live in Lisbon"]
        engine.apply("x", [ops.Add(text="likes tea", sources=(1,))])
        assert [h.id for h in engine.search("x", "Porto", k=1)] == ["m1"]
    con = duckdb.connect(str(data / DB_FILE), read_only=True)
    try:
        assert [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()] == [1, 2, 3, 4]
        assert con.execute("SELECT count(*) FROM memories").fetchone()[0] == 2
    finally:
        con.close()
