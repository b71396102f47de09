"""`memcli eval ops`: the annotated-conversation format, the HaluMem reader, the metrics and the reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.eval.locomo import StrategySpec
from memcli.eval.ops import evaluate
from memcli.eval.ops_data import OpsDataError, load, read_halumem, read_ops_yaml

ROOT = Path(__file__).parents[1]
OPS = ROOT / "eval_sets" / "ops"
FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_the_project_annotates_at_least_five_conversations_of_every_kind() -> None:
    conversations = load([OPS])
    assert len(conversations) >= 5
    kinds = {p.kind for c in conversations for p in c.points}
    assert kinds == {"fact", "update", "forbid"}
    assert all(c.questions for c in conversations)
    moving = read_ops_yaml(OPS / "dev" / "01_moving_house.yaml")
    porto = next(p for p in moving.points if "Porto" in p.text)
    assert porto.kind == "update" and porto.replaces == ("Ada lives in Lisbon",) and porto.must == ("Porto",)
    assert moving.messages[porto.message].text.startswith("Big news")
    assert (moving.messages[-1].ts - moving.messages[0].ts).days == 30


def test_a_malformed_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: t\nsteps:\n  - user: hi\n    updates: [{text: no replaces}]\n")
    with pytest.raises(OpsDataError, match="bad.yaml: .*needs `replaces`"):
        read_ops_yaml(bad)
    (tmp_path / "not.json").write_text('{"sessions": [{"no_dialogue": 1}]}')
    with pytest.raises(OpsDataError, match="session 0 has no `dialogue`"):
        read_halumem(tmp_path / "not.json")


def test_halumem_published_shape_is_read(tmp_path: Path) -> None:
    [conv] = read_halumem(FIXTURES / "halumem_tiny.json")
    assert conv.id == "u-test-1" and len(conv.messages) == 4 and conv.messages[0].speaker == "Martin"
    assert [(p.kind, p.message) for p in conv.points] == [("fact", 1), ("forbid", 1), ("update", 3)]
    assert conv.points[2].replaces == ("Martin works as a director at Huaxin Consulting.",)
    assert conv.questions[0].answer == "freelance health consultant"
    lines = tmp_path / "users.jsonl"  # the same users as JSON Lines
    lines.write_text("\n".join(json.dumps(u) for u in json.loads((FIXTURES / "halumem_tiny.json").read_text())))
    assert read_halumem(lines)[0].points == conv.points


def test_metrics_tell_an_updating_strategy_from_raw_turns(settings, embedder) -> None:
    conv = read_ops_yaml(OPS / "dev" / "01_moving_house.yaml")
    specs = [StrategySpec.parse("mem0"), StrategySpec.parse("rag-turns")]
    results = evaluate([conv], specs, settings, embedder=embedder, k=3)
    mem0, turns = results["mem0"].metrics(), results["rag-turns"].metrics()
    assert mem0["update_accuracy"] > turns["update_accuracy"]  # raw turns keep "I live in Lisbon" active
    assert results["rag-turns"].counts["updates_conflict"] >= 1
    assert turns["fabrication"] == 0.0 and mem0["fabrication"] == 0.0  # both only copy what was said
    assert turns["recall"] == 1.0  # every point is in some turn
    conflict = next(f for f in results["rag-turns"].findings if f.kind == "update-conflict")
    assert "Lisbon" in conflict.memory and conflict.provenance and "Lisbon" in conflict.provenance[0]


def test_cli_tables_json_csv_chart_and_details(tmp_path: Path) -> None:
    out, table, chart = tmp_path / "ops.json", tmp_path / "ops.csv", tmp_path / "ops.svg"
    result = runner.invoke(app, ["eval", "ops", str(FIXTURES / "halumem_tiny.json"), "-S", "mem0,rag-turns",
                                 "--json", str(out), "--csv", str(table), "--chart", str(chart), "--details",
                                 "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "Extraction" in result.stdout and "Updating" in result.stdout and "forbidden" in result.stdout
    data = json.loads(out.read_text())
    by = {s["strategy"]: s for s in data["strategies"]}
    assert by["rag-turns"]["counts"]["forbid"] == 1 and by["rag-turns"]["false_memory_resistance"] == 0.0
    assert any(f["kind"] == "forbidden" and f["expected"] == "Martin lives in Beijing." and f["provenance"]
               for f in by["rag-turns"]["findings"])
    rows = list(csv.DictReader(table.open()))
    assert [r["strategy"] for r in rows] == ["mem0", "rag-turns"] and "update_accuracy" in rows[0]
    assert chart.read_text().startswith("<svg") and "Updating" in chart.read_text()


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    result = runner.invoke(app, ["eval", "ops", str(bad), "-S", "mem0", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1 and "not a HaluMem user" in result.stderr
    assert "Traceback" not in result.output
