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


# -- the LLM judge ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smollm():
    """The real embedded GGUF (a weak judge: these tests check the mechanics, not the verdicts' quality)."""
    from memcli.model.llama import LlamaChatModel

    return LlamaChatModel(n_ctx=2048, n_threads=2, temperature=0.0)


def test_the_judge_decides_each_candidate_pair_with_the_real_model(settings, embedder, smollm) -> None:
    from memcli.eval.ops_judge import CANDIDATES, Judge

    [conv] = read_halumem(FIXTURES / "halumem_tiny.json")
    judge = Judge(smollm)
    results = evaluate([conv], [StrategySpec.parse("rag-turns")], settings, embedder=embedder, k=3, judge=judge)
    r = results["rag-turns"]
    assert r.matcher == f"LLM judge ({smollm.model_id})" and r.matcher_line().startswith("LLM judge, ")
    assert r.verdicts and set(r.verdicts) <= set(judge.verdicts)
    points = {p.text for p in conv.points}
    messages = {m.text for m in conv.messages}
    for v in r.verdicts.values():
        assert v.point in points and isinstance(v.match, bool) and v.cosine >= judge.floor
        assert any(m in v.memory for m in messages)  # a stored turn, judged against a point
    assert any(v.by == "llm" for v in r.verdicts.values())  # the grammar keeps the reply valid JSON
    per_point = {}
    for v in r.verdicts.values():
        per_point.setdefault(v.point, set()).add(v.memory)
    assert max(len(s) for s in per_point.values()) <= CANDIDATES
    # recall follows the verdicts: a point is recalled exactly when the judge accepted one of its candidates
    accepted = {p for p, m in judge.verdicts if judge.verdicts[(p, m)].match}
    facts = {p.text for p in conv.points_of("fact", "update")}
    assert r.counts["recalled"] == len(facts & accepted)


def test_a_reply_that_is_not_valid_json_falls_back_to_the_rule(settings, embedder, smollm) -> None:
    from memcli.eval.ops_judge import Judge

    [conv] = read_halumem(FIXTURES / "halumem_tiny.json")
    cut = Judge(smollm, max_tokens=2)  # `{"match": …}` needs more: every real reply is truncated JSON
    judged = evaluate([conv], [StrategySpec.parse("rag-turns")], settings, embedder=embedder, k=3, judge=cut)
    plain = evaluate([conv], [StrategySpec.parse("rag-turns")], settings, embedder=embedder, k=3)
    r = judged["rag-turns"]
    assert r.verdicts and all(v.by == "rule" and "truncated" in v.error for v in r.verdicts.values())
    assert "by the rule: bad JSON" in r.matcher_line()
    assert r.counts == plain["rag-turns"].counts  # the rule's verdicts, so the rule's figures


def test_json_without_a_boolean_match_is_a_fallback_too() -> None:
    from memcli.eval.ops_data import Point
    from memcli.eval.ops_judge import Judge

    class Talkative:  # a unit-test double: valid JSON, wrong shape
        model_id = "talkative"

        def complete_json(self, messages, schema, *, max_tokens=256):
            return {"match": "yes, probably"}

    verdict = Judge(Talkative())(Point("Ada lives in Porto", "fact", 0, must=("Porto",)), "Ada lives in Porto now",
                                 0.9, 0.55)
    assert verdict.by == "rule" and verdict.match and "boolean" in verdict.error


def test_cli_judge_on_labels_the_tables_and_auto_keeps_embeddings_for_the_135m(tmp_path: Path) -> None:
    args = ["eval", "ops", str(FIXTURES / "halumem_tiny.json"), "-S", "rag-turns", "--data-dir", str(tmp_path / "d")]
    on = runner.invoke(app, [*args, "--judge", "on", "--json", str(tmp_path / "on.json"), "--details"])
    assert on.exit_code == 0, on.output
    assert "LLM judge" in on.stdout and "never judged" in on.stdout and "verdict" in on.stdout
    [row] = json.loads((tmp_path / "on.json").read_text())["strategies"]
    assert row["matcher"].startswith("LLM judge") and row["judged_pairs"] == len(row["verdicts"]) > 0
    auto = runner.invoke(app, [*args, "--json", str(tmp_path / "auto.json")])
    assert auto.exit_code == 0, auto.output
    [row] = json.loads((tmp_path / "auto.json").read_text())["strategies"]
    assert row["matcher"] == "embedding" and row["judged_pairs"] == 0  # SmolLM2-135M fails the probe
    bad = runner.invoke(app, [*args, "--judge", "maybe"])
    assert bad.exit_code == 1 and "--judge" in bad.stderr and "Traceback" not in bad.output
