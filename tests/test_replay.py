"""Session files: the sample sessions pass, bad files give file:line errors, importers, export/import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.replay.format import SessionFileError, session_schema
from memcli.replay.loading import load_session, session_files
from memcli.replay.importers import ImportFormatError, read_locomo, read_openai, to_session_yaml
from memcli.replay.runner import run_session

ROOT = Path(__file__).parents[1]
SAMPLES = session_files(ROOT / "sample_sessions")
FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_there_are_at_least_ten_sample_sessions() -> None:
    assert len(SAMPLES) >= 10
    for path in SAMPLES:
        spec = load_session(path)
        assert spec.title and spec.demonstrates


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_session_meets_every_expectation(path: Path, settings, embedder) -> None:
    from memcli.model.factory import build_chat_model

    def model(spec):
        cassette = path.parent / spec.cassette if spec.cassette else None
        return build_chat_model(settings, cassette=cassette, mode="replay" if cassette else "auto")

    report = run_session(path, settings, embedder=embedder, model=model)
    assert report.error is None, report.error
    assert report.checks, "a sample session must check something"
    failed = [f"step {c.step} {c.kind}: {c.detail}" for c in report.checks if not c.passed]
    assert not failed, failed


def test_replay_command_json_and_compare(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(ROOT / "sample_sessions" / "02_contradiction_update.yaml"),
                                 "--compare", "mem0,rag-turns", "--json", "--data-dir", str(tmp_path)])
    reports = json.loads(result.stdout)
    assert {r["strategy"] for r in reports} == {"mem0", "rag-turns"}
    by = {r["strategy"]: r for r in reports}
    assert by["mem0"]["passed"] and not by["rag-turns"]["passed"]  # raw turns keep the contradiction
    assert result.exit_code == 1  # some expectation failed


BAD = {
    "bad_yaml.yaml": ("title: [unclosed\n", ":2: not valid YAML"),
    "unknown_key.yaml": ("title: t\ndemonstrates: d\ncolour: blue\nsteps:\n  - user: hi\n", ":3: colour: Extra inputs"),
    "unknown_step.yaml": ("title: t\ndemonstrates: d\nsteps:\n  - user: hi\n  - shout: HI\n", ":5: step 2: unknown step"),
    "wrong_type.yaml": ("title: t\ndemonstrates: d\nsteps:\n  - user: hi\n    reply: [1, 2]\n",
                        ":5: step 1: reply: Input should be a valid string"),
    "bad_duration.yaml": ("title: t\ndemonstrates: d\nsteps:\n  - advance: soon\n", ":4: step 1: advance"),
    "backwards.yaml": ("title: t\ndemonstrates: d\nclock: {start: 2026-05-01T00:00:00Z}\nsteps:\n"
                       "  - user: hi\n  - at: 2026-04-01T00:00:00Z\n", ":6: step 2: at 2026-04-01"),
    "two_expectations.yaml": ("title: t\ndemonstrates: d\nsteps:\n  - expect: {count: {min: 1}, memory: {match: a}}\n",
                              ":4: step 1: expect"),
    "bad_regex.yaml": ("title: t\ndemonstrates: d\nsteps:\n  - expect:\n      memory: {match: '('}\n",
                       ":5: step 1: expect.memory.match"),
    "not_a_mapping.yaml": ("- just\n- a list\n", ":1: a session file is a mapping"),
    "no_steps.yaml": ("title: t\ndemonstrates: d\nsteps: []\n", ":3: steps"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_session_file_names_file_line_and_problem(tmp_path: Path, name: str) -> None:
    text, expected = BAD[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SessionFileError) as err:
        load_session(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value), str(err.value)
    result = runner.invoke(app, ["replay", str(path), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1 and expected in result.stderr and "Traceback" not in result.output


def test_schema_matches_the_committed_file() -> None:
    committed = json.loads((ROOT / "docs" / "session.schema.json").read_text())
    assert committed == session_schema()
    step_kinds = {next(iter(s["properties"])) for s in committed["$defs"].values() if s.get("title", "").endswith("Step")}
    assert {"user", "advance", "switch", "expect", "edit", "forget"} <= step_kinds


def test_locomo_import_keeps_dates_speakers_and_dirty_evidence() -> None:
    [conv] = read_locomo(FIXTURES / "locomo_tiny.json")
    assert conv.speakers == ["Ana", "Ben"] and conv.turn_count == 8
    assert conv.sessions[1].date.isoformat() == "2024-03-20T18:30:00+00:00"
    assert conv.sessions[0].turns[2].caption == "a photo of a cat on a sofa"
    multi = [q for q in conv.questions if q.category == 1][0]
    assert multi.evidence == ["D1:4", "D2:3"]  # "D1:4; D2:3" in one string


def test_converted_locomo_replays(tmp_path: Path, settings, embedder) -> None:
    [conv] = read_locomo(FIXTURES / "locomo_tiny.json")
    path = tmp_path / "tiny.yaml"
    import yaml

    doc = yaml.safe_load(to_session_yaml(conv, "rag-turns"))
    doc["steps"] += [{"expect": {"retrieve": {"query": "Ana's cat", "match": "Pixel", "top_k": 2}}},
                     {"expect": {"count": {"min": 8, "max": 8}}}]
    path.write_text(yaml.safe_dump(doc))
    report = run_session(path, settings, embedder=embedder)
    assert report.passed, report.as_dict()


def test_openai_import(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"title": "t", "messages": [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "I live in Oslo", "timestamp": "2025-02-01T10:00:00Z"},
        {"role": "assistant", "content": [{"type": "text", "text": "Cold!"}]}]}))
    [conv] = read_openai(path)
    assert [(t.role, t.text) for t in conv.sessions[0].turns] == [("user", "I live in Oslo"), ("assistant", "Cold!")]
    assert conv.sessions[0].date.isoformat() == "2025-02-01T10:00:00+00:00"
    path.write_text('[{"role": "robot", "content": "x"}]')
    with pytest.raises(ImportFormatError, match="message 1: needs a role"):
        read_openai(path)
    path.write_text("{not json")
    with pytest.raises(ImportFormatError, match=":1: not valid JSON"):
        read_openai(path)


def test_ingest_then_memories_and_log_commands(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "data")]
    result = runner.invoke(app, ["ingest", str(FIXTURES / "locomo_tiny.json"), "-S", "rag-turns", "--json", *d])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["memories"] == 8
    listed = json.loads(runner.invoke(app, ["memories", "list", "-S", "rag-turns", "--json", *d]).stdout)
    assert len(listed) == 8 and listed[0]["metadata"]["turn_id"] == "D1:1"
    found = json.loads(runner.invoke(app, ["memories", "search", "marathon time", "-S", "rag-turns", "-k", "2",
                                           "--json", *d]).stdout)
    assert any("four hours" in f["text"] for f in found)
    edited = runner.invoke(app, ["memories", "edit", "m1", "Ana: my cat is Pixel", "-S", "rag-turns", "--json", *d])
    assert edited.exit_code == 0, edited.output
    shown = json.loads(runner.invoke(app, ["memories", "show", "m1", "-S", "rag-turns", "--json", *d]).stdout)
    assert [v["text"] for v in shown["versions"]] == ["Ana: Hi Ben! I just adopted a grey cat called Pixel.",
                                                      "Ana: my cat is Pixel"]
    assert shown["source_turns"][0]["text"].startswith("Hi Ben!")
    history = json.loads(runner.invoke(app, ["memories", "history", "m1", "-S", "rag-turns", "--json", *d]).stdout)
    assert [h["kind"] for h in history] == ["memory.added", "memory.edited"]
    for cmd in (["forget", "m2"], ["restore", "m2"], ["pin", "m3"]):
        assert runner.invoke(app, ["memories", *cmd, "-S", "rag-turns", *d]).exit_code == 0
    bad = runner.invoke(app, ["memories", "edit", "m99", "x", "-S", "rag-turns", *d])
    assert bad.exit_code == 1 and "no memory 'm99'" in bad.stderr

    log = json.loads(runner.invoke(app, ["log", "--kind", "memory.edited", "--json", *d]).stdout)
    assert len(log) == 1 and log[0]["payload"]["previous_text"].startswith("Ana: Hi Ben")
    as_of = json.loads(runner.invoke(app, ["log", "--as-of", str(log[0]["seq"] - 1), "--json", *d]).stdout)
    assert as_of[0]["text"].startswith("Ana: Hi Ben")
    sql = json.loads(runner.invoke(app, ["log", "--sql", "SELECT count(*) AS n FROM memories", "--json", *d]).stdout)
    assert sql == [{"n": 8}]
    refused = runner.invoke(app, ["log", "--sql", "DELETE FROM events", *d])
    assert refused.exit_code == 1 and "read-only" in refused.stderr.lower()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_export_import_round_trip(tmp_path: Path, suffix: str) -> None:
    a, b = ["--data-dir", str(tmp_path / "a")], ["--data-dir", str(tmp_path / "b")]
    runner.invoke(app, ["ingest", str(FIXTURES / "locomo_tiny.json"), "-S", "mem0", *a])
    runner.invoke(app, ["memories", "edit", "m1", "Ana adopted Pixel", "-S", "mem0", *a])
    export = tmp_path / f"log{suffix}"
    assert runner.invoke(app, ["export", str(export), *a]).exit_code == 0
    result = runner.invoke(app, ["import", str(export), "--json", *b])
    assert result.exit_code == 0, result.output
    for cmd in (["memories", "list", "-S", "mem0", "--status", "all", "--json"], ["log", "--json", "--limit", "9999"]):
        assert json.loads(runner.invoke(app, [*cmd, *a]).stdout) == json.loads(runner.invoke(app, [*cmd, *b]).stdout)
    again = runner.invoke(app, ["import", str(export), *b])
    assert again.exit_code == 1 and "import into an empty data dir" in again.stderr


def test_import_rejects_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1, "ts": "2026-01-01T00:00:00+00:00", "session_id": null, "kind": "message.user", '
                   '"actor": "user", "namespace": null, "memory_id": null, "payload": {"text": "hi"}, "batch": 1}\n'
                   '{"seq": 3, "ts": "2026-01-01T00:00:00+00:00"}\n')
    result = runner.invoke(app, ["import", str(bad), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1 and "line 2: missing" in result.stderr
    assert not (tmp_path / "d").exists()  # the file is checked before the data dir is created
