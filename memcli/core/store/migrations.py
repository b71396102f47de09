"""Numbered schema migrations, recorded in `schema_migrations`.

Append new steps at the end; never change what a shipped one creates.
"""

from __future__ import annotations

from memcli.core.store.codecs import EVENTS, MEMORIES, VERSIONS

MIGRATIONS: list[tuple[int, str, str]] = [
    # The tables of steps 1 and 2 are derived from the records (see store/codecs.py); what they
    # create is what shipped, column for column (tests/test_schema.py holds the shipped DDL).
    (1, "event log", EVENTS.ddl()),
    (2, "memory projection", MEMORIES.ddl() + "\n" + VERSIONS.ddl()),
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
    # The embedding cache is the index's (memcli/index/embedding_cache.py), not the log's: the
    # source-of-truth file keeps only the log and its projection. A cache: nothing to carry over.
    (4, "embedding cache moves to the index", "DROP TABLE IF EXISTS embeddings;"),
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
