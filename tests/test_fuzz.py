"""Fuzzing bad input with hypothesis: no crash, a clear error, nothing lost.

Cases per run (max_examples): session files 300, import files 300, CLI arguments 200,
memory edits 150, model output 400 — 1,350 in all.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.core import operations as ops
from memcli.core.planning import InvalidOperation
from memcli.engine import Engine
from memcli.errors import MemcliError
from memcli.model.base import StructuredOutputError
from memcli.model.llama import parse_structured
from memcli.replay.format import SessionFileError
from memcli.replay.loading import load_session
from memcli.replay.importers import ImportFormatError, read_locomo, read_openai
from memcli.settings import load_settings

def fuzz(n: int) -> settings:
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
step_keys = st.sampled_from(["user", "reply", "advance", "at", "switch", "expect", "edit", "pin", "forget",
                             "restore", "ingest", "memory", "match", "count", "min", "text", "usr", "status"])
session_like = st.fixed_dictionaries(
    {"title": json_values, "demonstrates": json_values},
    optional={"steps": st.lists(st.dictionaries(step_keys, json_values, max_size=3), max_size=5),
              "clock": json_values, "strategy": json_values, "extra": json_values},
)


class Counter:
    parse_failures = 0


@fuzz(150)
@given(st.one_of(session_like.map(yaml.safe_dump), st.text(max_size=200)))
def test_fuzz_session_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(text)
        try:
            load_session(path)
        except SessionFileError as exc:
            assert str(exc).startswith(str(path))


@fuzz(150)
@given(st.one_of(session_like.map(yaml.safe_dump), st.binary(max_size=100).map(lambda b: b.decode("latin-1"))))
def test_fuzz_session_files_raw(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_session(path)
        except SessionFileError:
            pass


locomo_like = st.lists(st.fixed_dictionaries({"sample_id": json_values}, optional={
    "conversation": st.dictionaries(st.sampled_from(["speaker_a", "speaker_b", "session_1", "session_1_date_time",
                                                     "session_2"]), json_values | st.lists(
        st.dictionaries(st.sampled_from(["speaker", "text", "dia_id", "blip_caption"]), json_values), max_size=3)),
    "qa": st.lists(st.dictionaries(st.sampled_from(["question", "answer", "evidence", "category"]), json_values),
                   max_size=3)}), max_size=3)


@fuzz(150)
@given(st.one_of(locomo_like, json_values))
def test_fuzz_locomo_import(data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.json"
        path.write_text(json.dumps(data))
        try:
            read_locomo(path)
        except ImportFormatError:
            pass


@fuzz(150)
@given(st.one_of(json_values, st.lists(st.dictionaries(st.sampled_from(["role", "content", "timestamp", "name"]),
                                                       json_values | st.sampled_from(["user", "assistant"])))))
def test_fuzz_openai_import(data) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.json"
        path.write_text(json.dumps(data))
        try:
            read_openai(path)
        except ImportFormatError:
            pass


COMMANDS = [["memories", "list"], ["memories", "show"], ["memories", "edit"], ["log"], ["config", "show"],
            ["replay"], ["strategies", "show"], ["export"], ["convert"], ["memories", "search"]]
runner = CliRunner()


@fuzz(200)
@given(st.sampled_from(COMMANDS), st.lists(st.one_of(
    st.text(max_size=15), st.sampled_from(["--json", "-k", "0", "--status", "--since", "--as-of", "-1", "--sql",
                                           "-S", "nope", "--set", "=", "--k", "x,y"])), max_size=4))
def test_fuzz_cli_arguments(tmp_path_factory, command, args) -> None:
    data = tmp_path_factory.mktemp("cli")
    result = runner.invoke(app, [*command, *args, "--data-dir", str(data)])
    assert result.exit_code in (0, 1, 2), result.output
    if result.exception is not None:  # only clean exits: usage errors (2) or one-line errors (1)
        assert isinstance(result.exception, SystemExit), repr(result.exception)


odd_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300) | \
    st.sampled_from(["\x00\x01\x1b[31mred", "‮reversed", "👩‍👩‍👧‍👦" * 50, "a" * 100_000, "\n\n\t", "'; DROP TABLE events; --"])


@fuzz(150)
@given(odd_text)
def test_fuzz_memory_edits(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with Engine(load_settings(data_dir=Path(tmp))) as engine:
            engine.apply("ns", [ops.Add(text="original")])
            before = engine.store.last_seq
            try:
                engine.apply("ns", [ops.Edit(memory_id="m1", text=text)], actor="editor")
            except InvalidOperation:
                assert not text.strip() and engine.store.last_seq == before  # nothing half-applied
                return
            stored = engine.store.memory("ns", "m1").text
            assert stored == text.strip() or "[redacted" in stored
            assert [v.text for v in engine.store.versions("ns", "m1")][0] == "original"
            assert engine.store.state_as_of(engine.store.last_seq) == engine.store.projection()


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["stop", "length", ""]))
def test_fuzz_garbage_from_the_model(raw: str, finish: str) -> None:
    try:
        parse_structured(raw, finish, Counter)
    except StructuredOutputError as exc:
        assert isinstance(exc, MemcliError) and exc.raw == raw
