"""Plots from the event log (issue #14): the core's curves, `memcli memories plot`, and the
replay --compare table at 80 columns. Strategies are named explicitly (the default may change)."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.clock import SimulatedClock
from memcli.core.curves import retention_curves, status_counts
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry

runner = CliRunner()
ROOT = Path(__file__).parent.parent
# memorybank: the peanuts are recalled (one day, then three), the stamps never and fade below 0.2
STEPS = [("I am allergic to peanuts.", "1d"), ("I collect stamps.", "1d"),
         ("Can you remind me what I am allergic to?", "3d"), ("Which food am I allergic to?", "0s")]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, embedder) -> Path:
    """memorybank live, mem0 backfilled, on the same four turns."""
    target = tmp_path_factory.mktemp("plots") / "d"
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    engine = Engine(load_settings(data_dir=target), clock=clock, embedder=embedder)
    chat = Chat(engine, StrategyRegistry(target / "no-plugins"), model=None, strategy="memorybank",
                          llm_memory="off", background=False)
    for text, wait in STEPS:
        chat.send(text, reply="Noted.")
        clock.advance(wait)
    chat.backfill("mem0")
    chat.close()
    engine.close()
    return target


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_retention_curves_come_from_the_events(data_dir: Path) -> None:
    engine = Engine(load_settings(data_dir=data_dir), read_only=True)
    try:
        curves = {c.memory_id: c for c in retention_curves(engine.store, "memorybank", samples=40)}
        rows = status_counts(engine.store, "memorybank")
        mem0 = status_counts(engine.store, "mem0")
    finally:
        engine.close()
    peanuts, stamps = curves["m1"], curves["m2"]
    assert "peanuts" in peanuts.text and "stamps" in stamps.text
    assert list(curves)[0] == "m1"  # the strongest first: recalled twice
    at = lambda day: [r for t, r in peanuts.points if t == datetime(2026, 3, day, 9, tzinfo=timezone.utc)]  # noqa: E731
    # recalled two days after it was said, with S = 1: R = exp(-2) just before, then Δt resets (R = 1) and S = 2;
    # recalled again three days later: exp(-3/2)
    assert at(4) == [pytest.approx(math.exp(-2), abs=1e-6), pytest.approx(1.0)]
    assert at(7) == [pytest.approx(math.exp(-1.5), abs=1e-6), pytest.approx(1.0)] and peanuts.strength == 3
    assert all(b <= a + 1e-9 for (ta, a), (tb, b) in zip(peanuts.points, peanuts.points[1:]) if ta != tb), \
        "between two recalls retention only falls"
    assert stamps.ended == "archived" and stamps.points[-1][1] < 0.2
    assert [r["turn"] for r in rows] == [1, 2, 3, 4]
    assert rows[1]["active"] == 2 and rows[-1]["archived"] >= 1
    assert [r["active"] for r in mem0] == [1, 2, 2, 2] and not any(r["archived"] for r in mem0)  # a backfill too


def test_plot_retention_svg_terminal_and_json(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.svg"
    result = runner.invoke(app, ["memories", "plot", "retention", "-S", "memorybank", "-o", str(out),
                                 "-d", str(data_dir)])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "m1 I am allergic to peanuts" in svg
    assert "archived below 0.2" in svg
    shown = runner.invoke(app, ["memories", "plot", "retention", "-S", "memorybank", "-d", str(data_dir)],
                          env={"COLUMNS": "100"})
    assert shown.exit_code == 0 and "retention R = exp(-Δt/S)" in shown.output and "days since 2026-03-02" in shown.output
    data = json.loads(runner.invoke(app, ["memories", "plot", "retention", "-S", "memorybank", "-m", "m2", "--json",
                                          "-d", str(data_dir)]).stdout)
    assert [c["id"] for c in data["curves"]] == ["m2"] and data["curves"][0]["ended"] == "archived"
    assert data["threshold"] == 0.2 and data["unit_hours"] == 24.0


def test_plot_status_svg(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.svg"
    result = runner.invoke(app, ["memories", "plot", "status", "-S", "mem0", "-o", str(out), "-d", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<svg") and ">active<" in out.read_text()
    data = json.loads(runner.invoke(app, ["memories", "plot", "status", "-S", "memorybank", "--json",
                                          "-d", str(data_dir)]).stdout)
    assert [r["turn"] for r in data["turns"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("args, message", [
    (["retention", "-S", "mem0"], "mem0 has no retention curves: only memorybank"),
    (["retention", "-S", "memorybank", "-m", "m99"], "no memory m99 in memorybank"),
    (["retention", "-S", "nosuch"], "no strategy or memory namespace 'nosuch'"),
    (["status", "-S", "memorybank", "-o", "plot.png"], "the plot is written as SVG"),
])
def test_plot_mistakes_are_one_line(data_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    before = digest(data_dir)
    result = runner.invoke(app, ["memories", "plot", *args, "-d", str(data_dir)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memcli: error:") and message in lines[0], result.output
    assert digest(data_dir) == before
    assert not list(tmp_path.iterdir())


def test_replay_compare_table_fits_80_columns_and_says_why_a_cell_failed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEMCLI_LLM_MEMORY", "off")
    chat = ROOT / "sample_sessions" / "05_recall_across_sessions.yaml"
    result = runner.invoke(app, ["replay", str(chat), "--compare", "rag-turns,mem0", "-d", str(tmp_path)],
                           env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    rows = [line for line in lines if "rag-turns" in line or "mem0" in line]
    assert any("rag-turns" in line and "3/3" in line for line in rows), result.stdout  # one line per strategy
    assert any("mem0" in line and "error (1)" in line for line in rows), result.stdout
    start = lines.index(next(line for line in lines if line.startswith("(1)")))
    reason = " ".join(line.strip() for line in lines[start:])
    assert "the cassette holds the model calls of rag-turns" in reason and "--record -S mem0" in reason
