"""Issue #12's defects, each reproduced as it was reported, through the CLI where a person meets it:
exit 1, one line on stderr, no traceback, and the data dir byte-for-byte unchanged."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.core import erasure
from memcli.core import operations as ops
from memcli.core.store.files import DB_FILE
from memcli.core.store.log import EventStore
from memcli.index.embedding_cache import EmbeddingCache
from memcli.embed.embedder import text_hash
from reliability_helpers import assert_one_line_error, dir_state, refused

runner = CliRunner()
HELPERS = Path(__file__).parent / "helpers"


def _chat(tmp_path: Path, messages: list[tuple[str, str]], title: str = "chat") -> Path:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"title": title, "messages": [{"role": r, "content": c} for r, c in messages]}))
    return path


def _ingest(tmp_path: Path, messages: list[tuple[str, str]], strategy: str = "rag-turns") -> Path:
    data = tmp_path / "data"
    # both roles: the reproduction has the assistant's "OK."s as memories of their own
    result = runner.invoke(app, ["ingest", str(_chat(tmp_path, messages)), "-f", "openai", "-S", strategy,
                                 *(["--set", "roles=both"] if strategy == "rag-turns" else []), "-d", str(data)])
    assert result.exit_code == 0, result.output
    return data


def _memories(data: Path, strategy: str = "rag-turns") -> dict[str, dict]:
    out = runner.invoke(app, ["memories", "list", "-S", strategy, "--status", "all", "--json", "-d", str(data)])
    assert out.exit_code == 0, out.output
    return {m["id"]: m for m in json.loads(out.stdout)}


def _log(data: Path) -> list[dict]:
    return json.loads(runner.invoke(app, ["log", "--json", "--limit", "100000", "-d", str(data)]).stdout)


OK_CHAT = [("user", "I live in Lisbon."), ("assistant", "OK."),
           ("user", "Is it OK. if I call you later about my OK. results?"), ("assistant", "OK.")]


# -- 1. erase by identity ---------------------------------------------------------------------


def test_hard_forget_erases_by_identity_not_by_text(tmp_path: Path) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    before = _memories(data)
    result = runner.invoke(app, ["memories", "forget", "m2", "--hard", "-S", "rag-turns", "-d", str(data)])
    assert result.exit_code == 0, result.output
    after = _memories(data)
    assert after["m2"]["text"] == "" and after["m2"]["status"] == "deleted"
    for other in ("m1", "m3", "m4"):  # the other "OK."s are other turns: untouched
        assert after[other] == before[other]
    texts = {e["seq"]: e["payload"].get("text") for e in _log(data) if e["kind"].startswith("message.")}
    assert list(texts.values()) == ["I live in Lisbon.", erasure.ERASED,
                                    "Is it OK. if I call you later about my OK. results?", "OK."]


# -- 2. erase is atomic, complete and finishable ----------------------------------------------


# private, but no secret the redactor would catch: erase must remove it by itself
SECRET = "My locker is the one with the Quintessa sticker behind the gym."


def test_failed_erase_transaction_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _ingest(tmp_path, [("user", SECRET), ("assistant", "Noted.")])

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("memcli.core.store.log.scrub", full_disk)
    line = refused(runner, app, ["memories", "forget", "m1", "--hard", "-S", "rag-turns", "-d", str(data)], data,
                   contains="disk is full")
    assert "nothing was changed" in line
    assert not erasure.pending(data)


def test_interrupted_erase_is_refused_to_readers_and_finished_by_rebuild(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = _ingest(tmp_path, [("user", SECRET), ("assistant", "Noted."), ("user", "I like tea."),
                              ("assistant", "Tea is nice.")])
    search = ["memories", "search", "locker code", "-S", "rag-turns", "--json", "-d", str(data)]
    assert "Quintessa" in runner.invoke(app, search).stdout  # indexed and cached before the erase
    assert _cached(data, "User: " + SECRET)

    real = EventStore.rewrite_file

    def disk_full_mid_rewrite(self):  # the failure the issue saw: the copy runs out of space
        (self.path.parent / (self.path.name + ".rewrite")).write_bytes(b"partial copy")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path) + ".rewrite")

    monkeypatch.setattr(EventStore, "rewrite_file", disk_full_mid_rewrite)
    result = runner.invoke(app, ["memories", "forget", "m1", "--hard", "-S", "rag-turns", "-d", str(data)])
    assert "memcli rebuild" in assert_one_line_error(result)
    assert erasure.pending(data)
    # until it is finished, nothing that could show the old text runs
    assert "interrupted" in assert_one_line_error(runner.invoke(app, search))
    monkeypatch.setattr(EventStore, "rewrite_file", real)
    rebuilt = runner.invoke(app, ["rebuild", "-d", str(data)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert not erasure.pending(data)
    assert not list(data.glob("*.rewrite*"))
    everything = b"".join(dir_state(data).values())
    assert b"Quintessa" not in everything, "erased text left in the DuckDB file, a .lance file or a temp file"
    hits = json.loads(runner.invoke(app, search).stdout)
    assert hits and all("Quintessa" not in h["text"] for h in hits)
    assert not _cached(data, "User: " + SECRET)
    with _reader(data) as store:
        assert store.memory("rag-turns", "m3").text == "User: I like tea."


def _cached(data: Path, text: str) -> bool:
    """Whether the index's embedding cache holds a vector of `text`."""
    cache = EmbeddingCache(data / "index")
    try:
        return bool(cache.get("all-MiniLM-L6-v2", [text_hash(text)]))
    finally:
        cache.close()


class _reader:
    def __init__(self, data: Path) -> None:
        self.store = EventStore(data, read_only=True)

    def __enter__(self) -> EventStore:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def test_erase_removes_derived_contexts_and_echoing_replies(settings, embedder) -> None:
    from doubles import EchoModel
    from strategy_helpers import close, chat

    s = chat(settings, embedder, "rag-turns")
    s.model = EchoModel()
    s.send("My passphrase is purple walrus eats noodles.")  # reply echoes it
    s.send("What is the weather like?")  # its context holds the turn above as history
    s.send("Tell me something nice.")
    erased_turn = s.engine.store.events(kinds=["message.user"])[0].seq
    target = next(m for m in s.engine.store.memories("rag-turns") if erased_turn in m.sources)
    s.engine.apply("rag-turns", [ops.Delete(memory_id=target.id, hard=True)], actor="editor")
    events = s.engine.store.events()
    close(s)
    dump = json.dumps([e.payload for e in events])
    assert "walrus" not in dump, [e for e in events if "walrus" in json.dumps(e.payload)]
    contexts = [e.payload for e in events if e.kind == "context.built"]
    assert len(contexts) == 3
    assert contexts[2]["messages"][-1]["content"].endswith("Tell me something nice.")  # untouched parts stay
    weather = [m["content"] for m in contexts[1]["messages"]]
    assert erasure.ERASED in weather and any("weather" in c for c in weather)


# -- 3. log --sql reaches only memcli's tables ------------------------------------------------


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/root/*')",
    "COPY events TO '{tmp}/x.csv'",
    "EXPORT DATABASE '{tmp}/exported'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "DELETE FROM events",
    "CREATE TABLE t AS SELECT 1",
])
def test_log_sql_is_sandboxed(tmp_path: Path, sql: str) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    refused(runner, app, ["log", "--sql", sql.format(tmp=tmp_path), "-d", str(data)], data, contains="SQL")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "exported").exists()
    ok = runner.invoke(app, ["log", "--sql", "SELECT count(*) AS n FROM events", "--json", "-d", str(data)])
    assert json.loads(ok.stdout) == [{"n": len(_log(data))}]


# -- 5. convert writes inside -o only ---------------------------------------------------------


def test_convert_file_names_are_slugs_inside_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export = tmp_path / "many.json"
    export.write_text(json.dumps([{"title": t, "messages": [{"role": "user", "content": "hi"}]}
                                  for t in ["../../../../tmp/escaped", "A/B testing ideas", "..", "A/B testing ideas"]]))
    result = runner.invoke(app, ["convert", str(export), "-f", "openai", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["a-b-testing-ideas-2.yaml", "a-b-testing-ideas.yaml", "conversation-3.yaml", "tmp-escaped.yaml"]
    assert not any(p.is_file() for p in tmp_path.iterdir() if p.name.endswith(".yaml"))
    locomo = tmp_path / "locomo.json"
    locomo.write_text(json.dumps([{"sample_id": "../../evil", "conversation": {
        "speaker_a": "A", "speaker_b": "B", "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [{"speaker": "A", "text": "hi", "dia_id": "D1:1"}]}}]))
    assert runner.invoke(app, ["convert", str(locomo), "-o", str(out)]).exit_code == 0
    assert (out / "evil.yaml").is_file() and not (tmp_path / "evil.yaml").exists()


# -- 6. YAML that explodes ---------------------------------------------------------------------


def _laughs(levels: int) -> str:
    lines = ['title: t', 'demonstrates: d', 'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append(f"steps: [{{user: hi}}, *a{levels}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, message", [
    (_laughs(8), "expands to more than"),
    ("title: t\ndemonstrates: d\nsteps: &s [*s]\n", "cycle"),
    ("title: t\ndemonstrates: d\nsteps: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ("title: t\ndemonstrates: d\nsteps:\n  - advance: 999999999w\n", "9999"),
    ("title: t\ndemonstrates: d\nclock: {start: 9999-12-31T00:00:00Z}\nsteps:\n  - advance: 2d\n", "9999"),
])
def test_hostile_session_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert len(text) < 60_000
    refused(runner, app, ["replay", str(path), "-d", str(tmp_path / "d")], tmp_path / "d", contains=message)


# -- 7. an interrupted backfill can be run again ----------------------------------------------


def test_backfill_restart_after_an_interrupted_one(tmp_path: Path) -> None:
    data = _ingest(tmp_path, [("user", f"I am allergic to thing {i}.") for i in range(6)])
    first = runner.invoke(app, ["strategies", "backfill", "mem0", "--json", "-d", str(data)])
    assert first.exit_code == 0, first.output
    full = json.loads(first.stdout)["memories"]
    # an interrupted run leaves some memories; a plain second run says what to do, and changes nothing
    line = refused(runner, app, ["strategies", "backfill", "mem0", "-d", str(data)], data, contains="--restart")
    assert "already has" in line
    again = runner.invoke(app, ["strategies", "backfill", "mem0", "--restart", "--json", "-d", str(data)])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["memories"] == full
    deleted = [m for m in _memories(data, "mem0").values() if m["status"] == "deleted"]
    assert len(deleted) == full  # the first run's memories are deleted by events, restorable


# -- 8. a reader never blocks a writer --------------------------------------------------------


def test_a_long_reader_does_not_block_a_writer(tmp_path: Path) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    reader = subprocess.Popen([sys.executable, str(HELPERS / "hold_reader.py"), str(data)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().startswith("READY"), reader.stderr.read()  # type: ignore[union-attr]
        pin = subprocess.run([sys.executable, "-m", "memcli", "memories", "pin", "m1", "-S", "rag-turns",
                              "-d", str(data)], capture_output=True, text=True, timeout=120)
        assert pin.returncode == 0, pin.stderr
    finally:
        reader.kill()
        reader.wait()


def test_a_foreign_lock_holder_is_named_in_one_line(tmp_path: Path) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(data / DB_FILE)!r})
        print("READY", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().startswith("READY")  # type: ignore[union-attr]
        before = dir_state(data)
        pin = subprocess.run([sys.executable, "-m", "memcli", "memories", "pin", "m1", "-S", "rag-turns",
                              "-d", str(data)], capture_output=True, text=True, timeout=120)
        assert f"pid {holder.pid}" in assert_one_line_error(pin)
        assert dir_state(data) == before
    finally:
        holder.kill()
        holder.wait()


# -- 9. import validates the whole file first -------------------------------------------------


def _export(tmp_path: Path) -> list[str]:
    data = _ingest(tmp_path, OK_CHAT)
    path = tmp_path / "e.jsonl"
    assert runner.invoke(app, ["export", str(path), "-d", str(data)]).exit_code == 0
    return path.read_text().splitlines()


def test_import_refuses_partial_or_invalid_logs(tmp_path: Path) -> None:
    lines = _export(tmp_path)
    events = [json.loads(x) for x in lines[:-1]]
    end = lines[-1]
    orphan = {**events[-1], "seq": len(events) + 1, "batch": len(events) + 1, "kind": "memory.updated",
              "memory_id": "m99", "payload": {"text": "x"}}
    no_text = [{**e, "payload": {k: v for k, v in e["payload"].items() if k != "text"}}
               if e["kind"] == "memory.added" else e for e in events]
    null_kind = [{**e, "payload": {**e["payload"], "kind": None}} if e["kind"] == "memory.added" else e
                 for e in events]  # found by the import fuzz: it reached the table's NOT NULL as a traceback
    cases = {
        "cut at a line boundary": ("\n".join(lines[:5]), "cut short"),
        "half a batch, end marker kept": ("\n".join(lines[:4] + [end]), "incomplete"),
        "orphan update": ("\n".join([*lines[:-1], json.dumps(orphan), json.dumps({"memcli_export": 1,
                                                                                   "events": len(events) + 1})]),
                          "never added"),
        "added without text": ("\n".join([*map(json.dumps, no_text), end]), "text"),
        "added with a null kind": ("\n".join([*map(json.dumps, null_kind), end]), "kind must be text"),
        "a bare number": ("5", "JSON object"),
        "batch is text": ("\n".join([json.dumps({**events[0], "batch": "x"}), end]), "whole number"),
        "NaN in a payload": ("\n".join([json.dumps({**events[0], "payload": {"text": float("nan")}}), end]), "NaN"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text(text + "\n")
        refused(runner, app, ["import", str(path), "-d", str(tmp_path / name)], tmp_path / name, contains=message)
        assert not (tmp_path / name).exists(), name
    bom = tmp_path / "utf16.jsonl"
    bom.write_bytes(b"\xff\xfe" + "5\n".encode("utf-16-le"))
    refused(runner, app, ["import", str(bom), "-d", str(tmp_path / "u")], tmp_path / "u", contains="UTF-8")


# -- 10. the reported tracebacks, and the environment ----------------------------------------


@pytest.mark.parametrize("content, message", [
    ([{"type": "text", "text": None}], None), ([{"type": "text", "text": 5}], None),
])
def test_openai_content_parts_that_are_not_text(tmp_path: Path, content, message) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"role": "user", "content": content}, {"role": "user", "content": "hello"}]))
    result = runner.invoke(app, ["convert", str(path), "-f", "openai", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output  # non-text parts are skipped, like images


@pytest.mark.parametrize("stamp", ["1e20", "NaN", "-1e300", '"9999-99-99"'])
def test_impossible_timestamps(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "c.json"
    path.write_text('[{"role": "user", "content": "hi", "create_time": ' + stamp + '}]')
    data = tmp_path / "d"
    refused(runner, app, ["ingest", str(path), "-f", "openai", "-d", str(data)], data, contains="timestamp")


def test_unknown_search_mode(tmp_path: Path) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    refused(runner, app, ["memories", "search", "x", "--mode", "fuzzy", "-S", "rag-turns", "-d", str(data)], data,
            contains="search mode")


WRITERS = [["memories", "pin", "m1", "-S", "rag-turns"], ["memories", "edit", "m1", "new", "-S", "rag-turns"],
           ["memories", "forget", "m1", "--hard", "-S", "rag-turns"], ["rebuild"],
           ["strategies", "backfill", "mem0"]]


@pytest.mark.parametrize("command", WRITERS)
def test_writing_when_the_os_refuses(tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only data dir (simulated at the OS boundary, so it also holds for root): nothing is opened for
    writing, one line says why."""
    data = _ingest(tmp_path, OK_CHAT)
    real_open = os.open

    def refusing(path, flags, *args, **kwargs):
        if str(path).startswith(str(data)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    refused(runner, app, [*command, "-d", str(data)], data, contains="read-only")


# -- 11. user text is shown as written --------------------------------------------------------


def test_square_brackets_survive_tables(tmp_path: Path) -> None:
    text = "My notes say [red]hidden[/red] [bold], keep it safe [/]."
    data = _ingest(tmp_path, [("user", text)])
    wide = {"COLUMNS": "400"}
    for args in (["memories", "list", "-S", "rag-turns"], ["log"], ["memories", "search", "key", "-S", "rag-turns"],
                 ["memories", "history", "m1", "-S", "rag-turns"], ["memories", "show", "m1", "-S", "rag-turns"]):
        out = runner.invoke(app, [*args, "-d", str(data)], env=wide)
        assert out.exit_code == 0, out.output
        assert "[red]hidden[/red] [bold], keep it safe [/]" in out.stdout, (args, out.stdout)


# -- 12. minor --------------------------------------------------------------------------------


def test_bogus_status_namespace_and_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _ingest(tmp_path, OK_CHAT)
    refused(runner, app, ["memories", "list", "--status", "bogus", "-d", str(data)], data, contains="--status")
    refused(runner, app, ["memories", "list", "-S", "nosuch", "-d", str(data)], data, contains="nosuch")
    refused(runner, app, ["log", "-S", "nosuch", "-d", str(data)], data, contains="nosuch")
    monkeypatch.setenv("MEMCLI_CONFIG", str(tmp_path))
    refused(runner, app, ["memories", "list", "-d", str(data)], data, contains="not a file")
