"""Numbered schema migrations, recorded in `schema_migrations`.

Append new steps at the end; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "event log",
        """
        CREATE TABLE events (
            seq BIGINT PRIMARY KEY,
            ts TIMESTAMP NOT NULL,          -- UTC, from the injected clock
            session_id VARCHAR,
            kind VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            namespace VARCHAR,
            memory_id VARCHAR,
            payload JSON NOT NULL,
            batch BIGINT NOT NULL           -- seq of the batch's first event
        );
        """,
    ),
    (
        2,
        "memory projection",
        """
        CREATE TABLE memories (
            namespace VARCHAR NOT NULL, id VARCHAR NOT NULL, text VARCHAR NOT NULL,
            kind VARCHAR NOT NULL, status VARCHAR NOT NULL, strength DOUBLE NOT NULL,
            importance DOUBLE NOT NULL, pinned BOOLEAN NOT NULL,
            created_seq BIGINT NOT NULL, updated_seq BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL, last_access TIMESTAMP NOT NULL,
            access_count INTEGER NOT NULL, valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP,
            sources BIGINT[] NOT NULL, version INTEGER NOT NULL, metadata JSON NOT NULL
        );
        CREATE TABLE memory_versions (
            namespace VARCHAR NOT NULL, id VARCHAR NOT NULL, version INTEGER NOT NULL,
            text VARCHAR NOT NULL, seq BIGINT NOT NULL,
            valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP
        );
        """,
    ),
    (
        3,
        "embedding cache",
        """
        CREATE TABLE embeddings (
            model VARCHAR NOT NULL, text_hash VARCHAR NOT NULL, vector FLOAT[] NOT NULL,
            PRIMARY KEY (model, text_hash)
        );
        """,
    ),
]


def migrate(con) -> list[int]:  # con: duckdb.DuckDBPyConnection
    """Apply the migrations this database lacks, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    have = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in MIGRATIONS:
        if version in have:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
