"""A damaged or missing index is rebuilt from the log; a damaged log is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.core import operations as ops
from memcli.core.store.files import StoreError
from memcli.engine import Engine

runner = CliRunner()


def _fill(settings, embedder) -> list[str]:
    with Engine(settings, embedder=embedder) as engine:
        engine.apply("ns", [ops.Add(text=t) for t in ["I keep bees", "My bike is red", "I speak Finnish"]])
        return [h.text for h in engine.search("ns", "language", k=3)]


@pytest.mark.parametrize("damage", ["garbage", "truncate", "delete-data"])
def test_damaged_lancedb_is_rebuilt_from_the_log(settings, embedder, damage: str) -> None:
    before = _fill(settings, embedder)
    files = [p for p in (settings.data_dir / "index").rglob("*") if p.is_file() and p.name != "state.json"]
    for p in files:
        if damage == "garbage":
            p.write_bytes(os.urandom(max(16, p.stat().st_size)))
        elif damage == "truncate":
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 3])
        elif p.suffix == ".lance":
            p.unlink()
    with Engine(settings, embedder=embedder) as engine:
        assert [h.text for h in engine.search("ns", "language", k=3)] == before
        assert engine.index.count("ns") == 3


def test_damaged_duckdb_is_a_clear_error_with_advice(settings, embedder) -> None:
    _fill(settings, embedder)
    db = settings.data_dir / "memcli.duckdb"
    data = bytearray(db.read_bytes())
    data[0:4096] = os.urandom(4096)  # the header
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="memcli backup"):
        Engine(settings, embedder=embedder)
    result = runner.invoke(app, ["memories", "list", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 1
    assert "cannot open" in result.stderr and "backup" in result.stderr and "Traceback" not in result.output


def test_not_a_database_at_all(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "memcli.duckdb").write_text("this is a text file, not a database")
    result = runner.invoke(app, ["log", "--data-dir", str(data)])
    assert result.exit_code == 1 and "cannot open" in result.stderr
