"""The LoCoMo harness end to end on a tiny fixture the project ships (never on ../shared)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.eval.locomo import StrategySpec, expand
from memcli.strategy.api import Hit

FIXTURE = Path(__file__).parent / "fixtures" / "locomo_tiny.json"
runner = CliRunner()


def test_expand_follows_provenance_dedups_and_cuts() -> None:
    seq_to_turn = {1: "D1:1", 2: "D1:2", 3: "D1:3", 7: "D2:1"}
    hits = [Hit("m9", "a round", 1.0, sources=(2, 1)), Hit("m3", "again", 0.9, sources=(1,)),
            Hit("m5", "later", 0.8, sources=(7, 3))]
    assert expand(hits, seq_to_turn, 10) == ["D1:1", "D1:2", "D1:3", "D2:1"]
    assert expand(hits, seq_to_turn, 3) == ["D1:1", "D1:2", "D1:3"]


def test_strategy_spec_variants() -> None:
    spec = StrategySpec.parse("rag-turns:mode=keyword;analyzer=plain")
    assert (spec.name, spec.params) == ("rag-turns", {"mode": "keyword", "analyzer": "plain"})


def test_eval_end_to_end(tmp_path: Path) -> None:
    out, table, chart = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.svg"
    result = runner.invoke(app, ["eval", "locomo", str(FIXTURE), "-S", "rag-turns,rag-turns:mode=vector,mem0",
                                 "--k", "1,3,10", "--json", str(out), "--csv", str(table), "--chart", str(chart),
                                 "--details", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    by = {s["strategy"]: s for s in data["strategies"]}
    # 5 questions of categories 1-4 with evidence; the adversarial one is skipped
    assert all(s["questions"] == 5 for s in by.values())
    # 8 turns in all: at k=10 every turn is kept, so raw-turn recall must be exactly 1
    assert by["rag-turns"]["recall"]["10"] == 1.0 == by["rag-turns:mode=vector"]["recall"]["10"]
    assert 0 < by["rag-turns"]["recall"]["1"] < 1.0
    # the multi-hop question has two evidence turns: at k=1 it can reach at most 0.5
    multi = [q for q in data["questions"]["rag-turns"] if q["category"] == 1][0]
    assert multi["evidence"] == ["D1:4", "D2:3"] and multi["recall"]["1"] <= 0.5
    # mem0 keeps only first-person facts: fewer memories and fewer turns reachable
    assert by["mem0"]["memories"] < by["rag-turns"]["memories"] == 8
    assert by["mem0"]["recall"]["10"] < 1.0
    assert by["rag-turns"]["context_tokens"]["10"] > by["rag-turns"]["context_tokens"]["1"] > 0
    rows = list(csv.DictReader(table.open()))
    assert {r["category"] for r in rows} >= {"all", "single-hop", "multi-hop", "temporal"}
    assert chart.read_text().startswith("<svg") and "rag-turns" in chart.read_text()
