"""Discovery, isolation of broken plugins, hot swap and backfill."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.core.events import Kind
from memcli.strategy import ParamError
from memcli.strategy.registry import StrategyLoadError, StrategyRegistry
from strategy_helpers import close, chat

runner = CliRunner()

GOOD = '''
from memcli.strategy import Candidate, Strategy

class Shout(Strategy):
    name = "shout"
    description = "Remembers every user message in capitals."
    paper = "none"

    def extract(self, turn, view):
        return [Candidate(turn.text.upper(), sources=(turn.seq,))] if turn.role == "user" else []
'''
BROKEN_IMPORT = "import this_module_does_not_exist\n"
RAISES = '''
from memcli.strategy import Strategy

class Boom(Strategy):
    name = "boom"
    description = "Raises in every hook."

    def extract(self, turn, view):
        raise RuntimeError("kaboom")
'''


@pytest.fixture
def dropins(tmp_path: Path) -> Path:
    d = tmp_path / "plugins"
    d.mkdir()
    (d / "shout.py").write_text(GOOD)
    (d / "broken.py").write_text(BROKEN_IMPORT)
    (d / "boom.py").write_text(RAISES)
    return d


def test_listing_names_imports_no_plugin(dropins: Path) -> None:
    registry = StrategyRegistry(dropins)
    assert {"shout", "broken", "boom", "mem0"} <= set(registry.names())
    proc = subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; from memcli.strategy.registry import StrategyRegistry; "
        f"StrategyRegistry(Path({str(dropins)!r})).names(); "
        "print([m for m in sys.modules if m.startswith(('memcli_plugins.', 'memcli_dropin_'))])")],
        capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_broken_dropin_is_a_warning_not_a_crash(dropins: Path, monkeypatch) -> None:
    monkeypatch.setattr("memcli.cli.strategies_cmd.StrategyRegistry", lambda: StrategyRegistry(dropins))
    result = runner.invoke(app, ["strategies", "list", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["shout"]["ok"] and rows["mem0"]["ok"]
    assert not rows["broken"]["ok"] and "this_module_does_not_exist" in rows["broken"]["error"]
    assert "warning: strategy 'broken'" in result.stderr
    with pytest.raises(StrategyLoadError, match="failed to load"):
        StrategyRegistry(dropins).load("broken")


def test_plugin_that_raises_is_isolated(settings, embedder, dropins: Path) -> None:
    s = chat(settings, embedder, "shout", dropins=dropins)
    try:
        s.send("hello there", reply="hi")
        s.switch("boom")
        s.send("this turn meets a broken hook", reply="ok")  # must not raise
        errors = s.engine.store.events(kinds=[Kind.STRATEGY_ERROR])
        assert errors and "kaboom" in errors[-1].payload["error"] and errors[-1].payload["hook"] == "extract"
        with pytest.raises(StrategyLoadError):
            s.switch("broken")
        assert s.strategy.name == "boom"  # the engine carries on with the strategy it had
        assert s.engine.store.events(kinds=[Kind.STRATEGY_ERROR])[-1].payload["hook"] == "load"
    finally:
        close(s)


def test_plugin_filter_env(dropins: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEMCLI_PLUGINS", "shout,mem0")
    assert StrategyRegistry(dropins).names() == ["mem0", "shout"]


def test_guard_gets_its_inner_strategy_from_the_registry_that_created_it(dropins: Path, monkeypatch) -> None:
    """guard builds no registry of its own: what this registry is allowed to load is what guard may wrap."""
    registry = StrategyRegistry(dropins)
    guard = registry.create("guard", {"inner": "rag-turns"})
    assert guard.registry is registry and guard.inner.registry is registry and guard.inner.name == "rag-turns"
    monkeypatch.setenv("MEMCLI_PLUGINS", "guard")  # the registry now loads guard only: not its default inner mem0
    with pytest.raises(StrategyLoadError, match="mem0"):
        StrategyRegistry(dropins).create("guard")
    with pytest.raises(ParamError, match="through a StrategyRegistry"):
        type(guard)()


CONVERSATION = [
    ("My name is Ada and I live in Lisbon.", "Hi Ada"),
    ("I love green tea.", "Noted"),
    ("I am allergic to peanuts.", "I'll remember"),
    ("I moved from Lisbon to Porto.", "Congrats"),
    ("I love green tea.", "You said so"),
    ("What do I drink?", "Green tea"),
]


def _memories(s, ns: str) -> list[tuple]:
    """Memories with their sources as message ordinals (seq numbers differ between data dirs)."""
    messages = s.engine.store.events(kinds=[Kind.MESSAGE_USER, Kind.MESSAGE_ASSISTANT])
    ordinal = {e.seq: i for i, e in enumerate(messages)}
    def metadata(m) -> dict:  # hema's summary names the turns it was made from: seq numbers too
        extra = {"contributors": [ordinal[x] for x in m.metadata["contributors"]]} if "contributors" in m.metadata \
            else {}
        return {**m.metadata, **extra}

    return [(m.id, m.text, m.kind, m.status, m.strength, m.version, tuple(ordinal[x] for x in m.sources),
             m.access_count, m.last_access, m.valid_from, m.valid_to, metadata(m))
            for m in s.engine.store.memories(ns, None)]


def test_switch_leaves_other_namespace_untouched(settings, embedder, clock) -> None:
    s = chat(settings, embedder, "mem0", clock=clock)
    try:
        for user, reply in CONVERSATION[:3]:
            s.send(user, reply=reply)
            clock.advance("1h")
        before = _memories(s, "mem0")
        s.switch("memorybank")
        for user, reply in CONVERSATION[3:]:
            s.send(user, reply=reply)
            clock.advance("1h")
        assert _memories(s, "mem0") == before
        assert s.engine.store.memories("memorybank")  # the new strategy has its own memories
        switched = s.engine.store.events(kinds=[Kind.STRATEGY_SWITCHED])
        assert switched[-1].payload["from"] == "mem0" and switched[-1].payload["to"] == "memorybank"
    finally:
        close(s)


@pytest.mark.parametrize("strategy", ["mem0", "memorybank", "hema", "tim", "longmemeval", "rag-turns", "sirllm",
                                      "rmm", "memgas"])
def test_backfill_equals_using_the_strategy_from_the_start(tmp_path, embedder, strategy: str) -> None:
    from memcli.clock import SimulatedClock
    from memcli.settings import load_settings

    def converse(s, clock) -> None:
        for user, reply in CONVERSATION:
            s.send(user, reply=reply)
            clock.advance("9h")

    clock = SimulatedClock()
    live = chat(load_settings(data_dir=tmp_path / "live"), embedder, strategy, clock=clock)
    converse(live, clock)
    expected = _memories(live, strategy)
    close(live)

    clock = SimulatedClock()
    other = chat(load_settings(data_dir=tmp_path / "later"), embedder, "full-context", clock=clock)
    converse(other, clock)
    assert other.backfill(strategy) == 2 * len(CONVERSATION)
    assert _memories(other, strategy) == expected
    close(other)
