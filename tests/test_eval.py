"""The LoCoMo harness end to end on a tiny fixture the project ships (never on ../shared)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.eval.locomo import StrategySpec, expand
from memcli.strategy import Hit

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
                                 "--plot", "--details", "--convs", "tiny-1", "--data-dir", str(tmp_path / "d")])
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
    # mem0 keeps what both people tell, without greetings and reactions: a smaller context for as much recall
    assert by["rag-turns"]["memories"] == 8 and by["mem0"]["memories"] > 0
    assert by["mem0"]["context_tokens"]["10"] < by["rag-turns"]["context_tokens"]["10"]
    assert by["mem0"]["recall"]["10"] == 1.0
    assert by["rag-turns"]["context_tokens"]["10"] > by["rag-turns"]["context_tokens"]["1"] > 0
    rows = list(csv.DictReader(table.open()))
    assert {r["category"] for r in rows} >= {"all", "single-hop", "multi-hop", "temporal"}
    assert rows[0]["qa_f1"] == ""  # no --qa
    assert chart.read_text().startswith("<svg") and "rag-turns" in chart.read_text()
    assert "LoCoMo evidence recall per strategy" in result.output and "@10" in result.output  # --plot: in the terminal


def test_eval_rejects_an_unknown_conversation_before_any_work(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "locomo", str(FIXTURE), "--convs", "tiny-1,conv-99",
                                 "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "memcli: error: --convs: no conversation conv-99 in the file (it has: tiny-1)"]
    assert not (tmp_path / "d").exists()


def test_qa_scores_like_the_locomo_paper() -> None:
    from memcli.eval.qa import normalize_answer, score

    assert normalize_answer("The cat, and a Dog!") == "cat dog"
    assert score("Pixel", "pixel", 4) == 1.0
    assert score("a blue vase", "blue vase", 4) == 1.0  # articles go
    assert score("running", "runs", 2) == 1.0  # Porter stems
    assert score("Madrid, Spain", "Madrid", 4) == 2 * 0.5 * 1.0 / 1.5  # precision 1/2, recall 1
    assert score("nothing", "Pixel", 4) == 0.0
    # multi-hop: each gold item takes its best predicted item; the scores are averaged
    assert score("Tuesdays, a blue vase", "a blue vase, Tuesdays", 1) == 1.0
    assert score("a blue vase", "a blue vase, Tuesdays", 1) == 0.5
    # open-domain: the gold answer's part before ';' counts
    assert score("likely yes", "Likely yes; she loves books", 3) == 1.0


class _AnswerFromMemories:
    """A scripted QA model (test double): answers with the word after "cat" in its prompt, and
    records the prompts it saw."""

    model_id, n_ctx = "scripted-qa", 4096

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, *, max_tokens=None, temperature=None, cancel=None, seed=None):
        import re

        from memcli.model.base import Generation, GenerationStats

        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        found = re.search(r"cat (?:is )?(?:called |named )?(\w+)", prompt)
        return Generation(iter([found.group(1) if found else "no idea", "\nextra line"]), GenerationStats(self.model_id))


def test_qa_answers_from_dated_memories(tmp_path: Path, embedder) -> None:
    from memcli.eval.locomo import evaluate
    from memcli.replay.importers import read_locomo
    from memcli.settings import Settings

    model = _AnswerFromMemories()
    results = evaluate(read_locomo(FIXTURE), [StrategySpec.parse("rag-turns")], Settings(data_dir=tmp_path),
                       ks=[1, 3], embedder=embedder, count_tokens=model.count_tokens,
                       qa_model=model)
    rows = {q.question: q for q in results["rag-turns"].questions}
    assert rows["What is the name of Ana's cat?"].prediction == "Pixel"  # the first line only
    assert rows["What is the name of Ana's cat?"].f1 == 1.0
    assert rows["Where is Clara visiting from?"].f1 == 0.0
    # memories come dated by their source turn, then the paper's question prompt
    assert "] Ana:" in model.prompts[0] and "2024" in model.prompts[0]
    assert model.prompts[0].rstrip().endswith("Short answer:")
    summary = results["rag-turns"].summary([1, 3])
    assert summary["qa_f1"]["all"] == round(sum(q.f1 for q in rows.values()) / 5, 4)
    assert "qa_f1" not in evaluate(read_locomo(FIXTURE), [StrategySpec.parse("rag-turns")],
                                   Settings(data_dir=tmp_path), ks=[1], embedder=embedder,
                                   count_tokens=model.count_tokens)["rag-turns"].summary([1])


def test_eval_qa_with_the_real_model(tmp_path: Path) -> None:
    from memcli.eval.qa import score

    out, table = tmp_path / "r.json", tmp_path / "r.csv"
    result = runner.invoke(app, ["eval", "locomo", str(FIXTURE), "--k", "3", "--qa", "--details", "--json", str(out),
                                 "--csv", str(table), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert "QA F1" in result.output
    questions = data["questions"]["rag-turns"]
    assert all(isinstance(q["prediction"], str) for q in questions)
    for q in questions:  # the stored score is the score of the stored answer
        assert q["f1"] == score(q["prediction"], q["answer"], q["category"])
    assert 0.0 <= data["strategies"][0]["qa_f1"]["all"] <= 1.0
    rows = list(csv.DictReader(table.open()))
    assert float(rows[0]["qa_f1"]) == data["strategies"][0]["qa_f1"]["all"]
