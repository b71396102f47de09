"""The Textual workbench, driven with Pilot: the real flow, non-blocking UI, switching, time travel."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList
from textual.worker import WorkerCancelled

from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.model.llama import LlamaChatModel
from memcli.chat import Chat
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from memcli.tui.app import MemcliApp
from memcli.tui.bubble import Bubble
from memcli.tui.chat import ChatLog
from memcli.tui.panels import Feed, MemoriesView, OpenMemory
from memcli.tui.screens import EditScreen, MemoryScreen, StrategyScreen
from memcli.tui.timetravel import TimeTravelScreen


@pytest.fixture(scope="module")
def model() -> LlamaChatModel:
    m = LlamaChatModel(n_ctx=2048, n_threads=2, temperature=0.0, max_tokens=48)
    m.load()
    return m


def make_app(data_dir: Path, embedder, model, strategy: str = "mem0", clock=None) -> MemcliApp:
    settings = load_settings(data_dir=data_dir, max_tokens=48, n_ctx=2048)
    engine = Engine(settings, clock=clock or SimulatedClock(), embedder=embedder)
    chat = Chat(engine, StrategyRegistry(data_dir / "no-plugins"), model=model, strategy=strategy)
    return MemcliApp(chat, settings, warm_up=False)


async def settle(pilot) -> None:
    """Wait for Textual workers and the session's memory worker, then let the UI catch up.

    At least three rounds, and more until a round ends with no worker running (a message handled
    in a pause may start one), however slow the machine. A worker cancelled on the way (an exclusive
    one replaced by a newer one, a reply stopped by Esc) is no error: Textual's `wait_for_complete`
    raises WorkerCancelled for it, which failed a test on a loaded machine only."""
    app = pilot.app
    for round_ in range(100):
        outcomes = await asyncio.gather(*(w.wait() for w in list(app.workers)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, WorkerCancelled):
                raise outcome
        await asyncio.to_thread(app.chat.drain)
        await pilot.pause()
        if round_ >= 2 and all(w.is_finished for w in app.workers):
            return
    raise AssertionError("the app kept starting workers")


async def until(pilot, condition, what: str) -> None:
    """Wait for a condition, however slow the machine (the bound only turns a hang into a failure)."""
    deadline = asyncio.get_running_loop().time() + 120
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def feed_ops(app) -> list[str]:
    table = app.query_one(Feed)
    return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]


async def test_chat_flow_feed_memories_edit_history(tmp_path, embedder, model) -> None:
    app = make_app(tmp_path / "d", embedder, model)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.click("#prompt")
            await pilot.press(*"My name is Ada and I live in Lisbon.")
            await pilot.press("enter")
            await settle(pilot)
            bubbles = list(app.query_one(ChatLog).query(Bubble))
            assert [b.border_title for b in bubbles] == ["you", "assistant"]
            assert bubbles[1].source.strip(), "the streamed reply is in the assistant bubble"
            assert {"retrieved", "extracted", "added"} <= set(feed_ops(app))
            table = app.query_one(MemoriesView).query_one(DataTable)
            texts = [str(table.get_cell_at((i, 2))) for i in range(table.row_count)]  # id, status, text, …
            assert "User: I live in Lisbon" in texts

            app.post_message(OpenMemory("m2"))
            await settle(pilot)
            assert isinstance(app.screen, MemoryScreen)
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, EditScreen)
            app.screen.query_one("#edit-text").text = "User: I live in Porto (edited)"
            await pilot.click("#save")
            await settle(pilot)
            assert app.chat.engine.store.memory("mem0", "m2").text == "User: I live in Porto (edited)"
            assert "edited" in feed_ops(app)
            app.post_message(OpenMemory("m2"))
            await settle(pilot)
            history = [e.kind.value for e in app.screen.events]
            assert history[-1] == "memory.edited" and history[0] == "memory.added"
    finally:
        app.chat.close()
        app.chat.engine.close()


async def test_ui_keeps_responding_while_a_reply_streams(tmp_path, embedder) -> None:
    from doubles import SlowScriptedModel

    # a reply of ~30 minutes, stopped by Esc: still streaming however slowly the keys below are typed
    app = make_app(tmp_path / "d", embedder, SlowScriptedModel(pieces=90_000, delay=0.02))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.click("#prompt")
            await pilot.press(*"Tell me a long story.")
            await pilot.press("enter")
            await until(pilot, lambda: any(b.border_title == "assistant" and b.source.strip()
                                           for b in app.query_one(ChatLog).query(Bubble)), "the reply to stream")
            turn = [w for w in app.workers if w.group == "turn"]
            assert turn and not turn[0].is_finished, "the reply should still be streaming"
            await pilot.press(*"typing while it streams")
            assert app.query_one("#prompt", Input).value == "typing while it streams"
            assert not turn[0].is_finished
            await pilot.press("escape")  # stop the reply
            await settle(pilot)
            events = app.chat.engine.store.events(kinds=["message.assistant"])
            assert events and events[-1].payload["stats"]["finish_reason"] == "cancelled"
    finally:
        app.chat.close()
        app.chat.engine.close()


async def test_switch_strategy_with_backfill_and_time_travel(tmp_path, embedder, model) -> None:
    clock = SimulatedClock()
    app = make_app(tmp_path / "d", embedder, model, clock=clock)
    app.chat.send("I am allergic to peanuts.", reply="Noted.")
    app.chat.drain()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, StrategyScreen)
            options = screen.query_one(OptionList)
            options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)
                                   ].index("memorybank")
            await pilot.pause()
            screen.query_one("#backfill").value = True
            await pilot.click("#switch")
            await settle(pilot)
            assert app.chat.namespace == "memorybank"
            assert [m.text for m in app.chat.engine.store.memories("memorybank")] == \
                ["User: I am allergic to peanuts"]
            assert [m.text for m in app.chat.engine.store.memories("mem0")] == \
                ["User: I am allergic to peanuts"]  # the other namespace is untouched
            assert "switched" in feed_ops(app)

            await pilot.press("ctrl+t")
            await settle(pilot)
            assert isinstance(app.screen, TimeTravelScreen)
            title = str(app.screen.query_one("#tt-title").render())
            assert "memorybank as of event" in title
            app.screen.action_step(-10)  # back to the first memory event: the memory was just added
            await settle(pilot)
            table = app.screen.query_one("#tt-table", DataTable)
            assert table.row_count == 1
    finally:
        app.chat.close()
        app.chat.engine.close()


# -- snapshots of the main screens ---------------------------------------------------------

SNAP_DIR = Path("/tmp/memcli-snapshot-data")


def snapshot_app(embedder, strategy: str = "mem0") -> MemcliApp:
    """A fixed data dir, a simulated clock and fixed replies: the same pixels every run."""
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    app = make_app(SNAP_DIR, embedder, None, strategy=strategy)
    for user, reply in [("Hi! My name is Ada, I live in Lisbon and I am allergic to peanuts.", "Hello Ada!"),
                        ("I love green tea and I work as a nurse.", "Noted: green tea, nursing."),
                        ("I moved from Lisbon to Porto.", "Congratulations on the move!")]:
        app.chat.send(user, reply=reply)
    app.chat.drain()
    return app


async def _ready(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False


@pytest.mark.parametrize("view", ["feed", "memories", "retrieval"])
def test_snapshot_main_views(snap_compare, embedder, view: str) -> None:
    app = snapshot_app(embedder)

    async def run_before(pilot) -> None:
        await _ready(pilot)
        pilot.app.action_view(view)
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
    finally:
        app.chat.close()
        app.chat.engine.close()


def test_snapshot_narrow_terminal(snap_compare, embedder) -> None:
    app = snapshot_app(embedder)
    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)
    finally:
        app.chat.close()
        app.chat.engine.close()


def test_the_narrow_footer_ends_with_the_palette_key_at_the_edge(embedder) -> None:
    """At 80 columns the keys overflow the footer; the palette key docked right must cover the last column,
    or a letter of the keys under it shows there."""
    app = snapshot_app(embedder)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _ready(pilot)
            palette = app.query_one("FooterKey.-command-palette")
            assert palette.region.right == 80

    try:
        asyncio.run(run())
    finally:
        app.chat.close()
        app.chat.engine.close()


def test_snapshot_memory_detail(snap_compare, embedder) -> None:
    app = snapshot_app(embedder)

    async def run_before(pilot) -> None:
        await _ready(pilot)
        pilot.app.post_message(OpenMemory("m2"))
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
    finally:
        app.chat.close()
        app.chat.engine.close()


async def test_failed_turn_restores_the_prompt(tmp_path, embedder) -> None:
    from doubles import SlowScriptedModel
    from memcli.model.base import ContextOverflowError

    class Overflowing(SlowScriptedModel):
        def stream(self, messages, **kwargs):
            raise ContextOverflowError(9999, 4000)

    app = make_app(tmp_path / "d", embedder, Overflowing())
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.click("#prompt")
            await pilot.press(*"a message that cannot fit", "enter")
            await settle(pilot)
            assert app.query_one("#prompt", Input).value == "a message that cannot fit"
            assert any("9999 tokens" in str(n.message) for n in app._notifications)
    finally:
        app.chat.close()
        app.chat.engine.close()
