"""As of a turn (issue #14): `log --as-of` takes an event, a turn or a time, and works for a
backfilled strategy; `chat` has one name per meaning."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.strategy.registry import StrategyRegistry

runner = CliRunner()
FACTS = ["My name is Ada.", "I live in Lisbon.", "I am allergic to peanuts.", "I work as a nurse.",
         "I love green tea.", "My sister is called Rita.", "I have a cat named Miso.", "I play the cello.",
         "I was born in 1990.", "I am flying to Tokyo in May.", "My brother is called Tiago.",
         "I drive a red car."]


def backfilled(tmp_path: Path, settings, embedder) -> Path:
    """Twelve turns an hour apart under memorybank, then mem0 switched to and backfilled."""
    clock = SimulatedClock()
    engine = Engine(settings, clock=clock, embedder=embedder)
    chat = Chat(engine, StrategyRegistry(tmp_path / "none"), model=None, strategy="memorybank",
                          background=False)
    try:
        for text in FACTS:
            chat.send(text, reply="Noted.")
            clock.advance("1h")
        chat.switch("mem0")
        chat.backfill()
    finally:
        chat.close()
        engine.close()
    return settings.data_dir


def as_of(data_dir: Path, point: str, strategy: str = "mem0") -> list[dict]:
    result = runner.invoke(app, ["log", "--as-of", point, "-S", strategy, "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_as_of_a_turn_a_time_or_an_event_works_for_a_backfilled_strategy(tmp_path, settings, embedder) -> None:
    d = backfilled(tmp_path, settings, embedder)
    messages = json.loads(runner.invoke(app, ["log", "--kind", "message.user", "--json",
                                              "--data-dir", str(d)]).stdout)
    second_reply = messages[2]["seq"] - 1  # the assistant's reply to turn 2: still turn 2
    for point in ("turn 2", "2026-01-01T01:30", str(second_reply)):
        texts = [m["text"] for m in as_of(d, point)]
        assert texts and any("Ada" in t for t in texts) and any("Lisbon" in t for t in texts), point
        assert not any("peanuts" in t for t in texts), point
    everything = as_of(d, "turn 12")
    ids = [m["id"] for m in everything]
    assert len(ids) >= 10 and ids == sorted(ids, key=lambda i: int(i[1:])), "m2 before m10"
    bad = runner.invoke(app, ["log", "--as-of", "turn 99", "--data-dir", str(d)])
    assert bad.exit_code == 1 and "12 user turns" in bad.stderr


def test_chat_has_no_replay_option_and_watch_takes_the_file(tmp_path) -> None:
    """`replay` is the command that plays session files: the cassette option is --playback."""
    text = runner.invoke(app, ["chat", "--help"], env={"COLUMNS": "200"}).output
    assert "--replay" not in text and text.count("--playback") == 1 and "--watch" in text


def test_memories_diff_aligns_two_strategies_by_source_turn(tmp_path, settings, embedder) -> None:
    d = backfilled(tmp_path, settings, embedder)
    result = runner.invoke(app, ["memories", "diff", "-S", "memorybank", "-S", "mem0", "--json", "--data-dir", str(d)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["turn"] for r in rows] == sorted(r["turn"] for r in rows)
    peanuts = next(r for r in rows if "peanuts" in r["message"])
    assert peanuts["mem0"] and peanuts["memorybank"] and peanuts["verdict"] == "both"
    assert all(r["verdict"] in ("both", "only A", "only B", "neither") for r in rows)
    text = runner.invoke(app, ["memories", "diff", "-S", "memorybank", "-S", "mem0", "--data-dir", str(d)],
                         env={"COLUMNS": "120"}).output
    assert "memorybank vs mem0" in text and "peanuts" in text
    one = runner.invoke(app, ["memories", "diff", "-S", "mem0", "--data-dir", str(d)])
    assert one.exit_code != 0
