"""Secrets are not stored verbatim; a hard forget erases a memory's text from disk."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.core.events import Kind
from memcli.core.privacy import redact
from strategy_helpers import close, chat

runner = CliRunner()


def test_redact_finds_common_secrets() -> None:
    assert redact("my password is hunter2") == ("my password is [redacted password]", ["password"])
    assert redact("key sk-proj-ABCDEFGHIJKLMNOPQRST12")[1] == ["api key"]
    assert redact("card 4111 1111 1111 1111")[1] == ["card number"]
    assert redact("call 4111 1111 1111 1112")[1] == []  # fails the Luhn check: not a card
    assert redact("I love pineapple pins") == ("I love pineapple pins", [])


def test_model_and_file_names_are_not_taken_for_random_tokens() -> None:
    """Names made of words, numbers and short tags (the default chat model's among them) pass; a generated
    secret with the same separators does not."""
    for name in ("SmolLM2-135M-Instruct-Q8_0", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "TinyLlama-1.1B-Chat-v1.0",
                 "paraphrase-multilingual-MiniLM-L12-v2", "m5.2xlarge-us-east-1a"):
        assert redact(f"I run {name} here") == (f"I run {name} here", []), name
    for secret in ("K7QX9-M2PLR-8WZT4-NB3VH-6YJCD", "acme_live_Xk82Lq9mPzR4vT7n", "Jm4k-9Pq2-Xr7t-W3zb-Lc8v"):
        assert secret not in redact(f"I run {secret} here")[0], secret


def test_secret_in_a_message_is_not_stored_as_a_memory(settings, embedder) -> None:
    s = chat(settings, embedder, "mem0")
    try:
        s.send("My password is hunter2. I live in Lisbon and my card is 4111 1111 1111 1111.", reply="ok")
        texts = " ".join(m.text for m in s.engine.store.memories("mem0"))
        assert "hunter2" not in texts and "4111" not in texts and "[redacted password]" in texts
        redacted = s.engine.store.events(kinds=[Kind.MEMORY_REDACTED])
        assert redacted and set(redacted[0].payload["kinds"]) <= {"password", "card number"}
        assert "hunter2" not in json.dumps(redacted[0].payload)
        extracted = s.engine.store.events(kinds=[Kind.MEMORY_EXTRACTED])
        assert "hunter2" not in json.dumps([e.payload for e in extracted])
    finally:
        close(s)


def _bytes_under(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())


def test_hard_forget_erases_text_from_log_and_index(tmp_path: Path, settings, embedder) -> None:
    s = chat(settings, embedder, "rag-turns")
    s.send("My childhood nickname was Zorblax the Great.", reply="What a name!")
    s.send("I like tea.", reply="ok")
    s.backfill("mem0")  # another namespace built from the same turns
    s.retrieve("nickname", k=3)  # the text is now also in a retrieval event
    close(s)
    data = settings.data_dir
    assert b"Zorblax" in _bytes_under(data)
    d = ["--data-dir", str(data)]
    result = runner.invoke(app, ["memories", "forget", "m1", "--hard", "-S", "rag-turns", "--json", *d])
    assert result.exit_code == 0, result.output
    assert b"Zorblax" not in _bytes_under(data), "the text is gone from the DuckDB file and the LanceDB tables"
    log = json.loads(runner.invoke(app, ["log", "--json", "--limit", "9999", *d]).stdout)
    tombstone = [e for e in log if e["kind"] == "memory.deleted" and e["payload"].get("hard")]
    assert tombstone and tombstone[0]["memory_id"] == "m1"
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))  # the chain of events is intact
    assert any(e["payload"].get("text") == "[erased]" for e in log if e["kind"] == "message.user")
    restore = runner.invoke(app, ["memories", "restore", "m1", "-S", "rag-turns", *d])
    assert restore.exit_code == 1  # an erased memory cannot come back
    listed = json.loads(runner.invoke(app, ["memories", "list", "-S", "rag-turns", "--status", "all", "--json",
                                            *d]).stdout)
    assert listed[0]["text"] == "" and listed[0]["status"] == "deleted"
    rebuilt = runner.invoke(app, ["rebuild", "--json", *d])
    assert rebuilt.exit_code == 0
    again = json.loads(runner.invoke(app, ["memories", "list", "-S", "rag-turns", "--status", "all", "--json",
                                           *d]).stdout)
    assert again == listed  # the projection after erasure equals a rebuild from the scrubbed log
