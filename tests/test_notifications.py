"""One notification path (issue #15): every committed change reaches an engine subscriber exactly
once, whichever path made it (a turn, `Chat.edit`, `engine.apply` directly, a replay's edit step,
a CLI command, a TUI action), and a failure of the background memory worker is a strategy.error
event that the workbench's feed shows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from memcli.chat import Chat, open_chat
from memcli.clock import SimulatedClock
from memcli.core import operations as ops
from memcli.core.events import Event
from memcli.engine import Engine
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from test_tui import settle

runner = CliRunner()


class Seen:
    """An engine subscriber that counts how often it was told of each event."""

    def __init__(self, engine) -> None:
        self.times: Counter[int] = Counter()
        self.events: list[Event] = []
        engine.subscribe(self)

    def __call__(self, events: list[Event]) -> None:
        for e in events:
            self.times[e.seq] += 1
            self.events.append(e)

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]

    def once(self, store) -> None:
        """Told of every event in the log, each exactly once."""
        logged = [e.seq for e in store.events()]
        assert sorted(self.times) == logged, (sorted(self.times), logged)
        assert set(self.times.values()) == {1}, self.times


def remembered(chat: Chat) -> str:
    chat.send("I live in Lisbon.", reply="Noted.")
    chat.drain()
    memory = next(m for m in chat.engine.store.memories(chat.namespace) if "Lisbon" in m.text)
    return memory.id


def test_a_turn_chat_edits_and_direct_applies_reach_a_subscriber_once(settings, embedder) -> None:
    with open_chat(settings, strategy="mem0", clock=SimulatedClock(), embedder=embedder,
                   registry=StrategyRegistry(settings.data_dir.parent / "none")) as chat:
        seen = Seen(chat.engine)
        memory_id = remembered(chat)
        assert {"message.user", "memory.retrieved", "message.assistant", "memory.added"} <= set(seen.kinds())
        chat.edit(ops.Pin(memory_id=memory_id))
        chat.engine.apply(chat.namespace, [ops.Edit(memory_id=memory_id, text="User: I live in Porto")],
                          actor="someone else")  # not through the chat: before #15 no watcher heard of it
        assert seen.kinds()[-2:] == ["memory.pinned", "memory.edited"]
        seen.once(chat.engine.store)


def test_a_replay_edit_step_reaches_a_subscriber_once(settings, embedder) -> None:
    from memcli.replay import format as f
    from memcli.replay.runner import play_step

    clock = SimulatedClock()
    with open_chat(settings, strategy="mem0", clock=clock, embedder=embedder, background=False,
                   registry=StrategyRegistry(settings.data_dir.parent / "none")) as chat:
        seen = Seen(chat.engine)
        remembered(chat)
        play_step(chat, clock, f.EditStep(edit=f.Match(match="Lisbon"), text="User: I live in Porto"), 2, settings)
        play_step(chat, clock, f.AdvanceStep(advance="3d"), 3, settings)
        assert seen.kinds()[-2:] == ["memory.edited", "clock.advanced"]
        jump = seen.events[-1].payload
        assert jump["from"] < jump["to"] and jump["to"].startswith(clock.now().date().isoformat())
        seen.once(chat.engine.store)


def test_a_cli_edit_reaches_the_subscribers_of_the_engine_it_opens(settings, embedder, monkeypatch) -> None:
    """The CLI opens its own engine: a subscriber attached to every engine opened in this process hears
    of the edit once (the command applies through `Engine.apply`, like every other path)."""
    from memcli.cli.app import app

    with open_chat(settings, strategy="mem0", clock=SimulatedClock(), embedder=embedder, background=False,
                   registry=StrategyRegistry(settings.data_dir.parent / "none")) as chat:
        memory_id = remembered(chat)
    opened: list[Seen] = []
    original = Engine.__init__

    def watched(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        opened.append(Seen(self))

    monkeypatch.setattr(Engine, "__init__", watched)
    result = runner.invoke(app, ["memories", "edit", memory_id, "I live in Porto", "-S", "mem0",
                                 "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    told = [e for s in opened for e in s.events]
    assert [e.kind.value for e in told] == ["memory.edited"], told
    assert told[0].payload["text"] == "I live in Porto"


async def test_tui_edits_and_writes_from_elsewhere_reach_the_feed_once(tmp_path: Path, embedder) -> None:
    """A memory edited in the workbench, and one changed by `engine.apply` from another thread (as a
    replay step or a server would), each appear in the feed once."""
    import asyncio

    from memcli.tui.app import MemcliApp
    from memcli.tui.panels import Feed
    from memcli.tui.screens import MemoryAction

    settings = load_settings(data_dir=tmp_path / "d", max_tokens=48, n_ctx=2048)
    with open_chat(settings, strategy="mem0", clock=SimulatedClock(), embedder=embedder,
                   registry=StrategyRegistry(tmp_path / "none")) as chat:
        memory_id = remembered(chat)
        app = MemcliApp(chat, settings, warm_up=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            feed = app.query_one(Feed)
            before = feed.row_count
            app._apply_memory_action(MemoryAction("pin", memory_id, namespace=chat.namespace))
            await settle(pilot)
            await asyncio.to_thread(chat.engine.apply, chat.namespace,
                                    [ops.Edit(memory_id=memory_id, text="User: I live in Porto")], actor="elsewhere")
            await settle(pilot)
            rows = [feed.get_row_at(i) for i in range(before, feed.row_count)]
            seqs = [str(r[0]) for r in rows]
            assert len(seqs) == len(set(seqs)) == 2, rows
            assert [str(r[2]) for r in rows] == ["pinned", "edited"], rows


UNSTORABLE = '''
from memcli.strategy import Candidate, Strategy

class Unstorable(Strategy):
    name = "unstorable"
    description = "Its candidate carries metadata the log cannot store: the write fails outside its hooks."

    def extract(self, turn, view):
        return [Candidate(turn.text, metadata={"when": object()})] if "Lisbon" in turn.text else []
'''


async def test_a_memory_worker_failure_is_an_event_shown_in_the_feed(tmp_path: Path, embedder) -> None:
    from memcli.tui.app import MemcliApp
    from memcli.tui.panels import Feed

    dropins = tmp_path / "plugins"
    dropins.mkdir()
    (dropins / "unstorable.py").write_text(UNSTORABLE)
    settings = load_settings(data_dir=tmp_path / "d", max_tokens=48, n_ctx=2048)
    with open_chat(settings, strategy="unstorable", clock=SimulatedClock(), embedder=embedder,
                   registry=StrategyRegistry(dropins)) as chat:
        app = MemcliApp(chat, settings, warm_up=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            turn = chat.ingest("user", "I live in Lisbon.")  # queued for the background worker
            await settle(pilot)
            errors = chat.engine.store.events(kinds=["strategy.error"])
            assert [e.payload["hook"] for e in errors] == ["memory-worker"], errors
            assert errors[0].payload["turn"] == turn.seq and "TypeError" in errors[0].payload["error"]
            feed = app.query_one(Feed)
            shown = [feed.get_row_at(i) for i in range(feed.row_count)]
            assert any(str(r[0]) == str(errors[0].seq) and str(r[2]) == "error" for r in shown), shown
            chat.ingest("user", "I work as a nurse.")
            await settle(pilot)  # waits for the worker: it lived on, and processed this turn without an error
            assert len(chat.engine.store.events(kinds=["strategy.error"])) == 1
