"""The workbench used as a new user would (issue #14): one pilot test per defect they met."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, DataTable, Input, OptionList

from doubles import SlowScriptedModel
from test_tui import settle
from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.chat import Chat
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from memcli.tui.app import MemcliApp
from memcli.tui.chat import ChatLog, PromptInput
from memcli.tui.panels import Feed, MemoriesView
from memcli.tui.screens import MemoryScreen, StrategyScreen
from memcli.tui.timetravel import TimeTravelScreen

FACTS = ["My name is Ada.", "I live in Lisbon.", "I am allergic to peanuts.", "I work as a nurse.",
         "I love green tea.", "My sister is called Rita.", "I have a cat named Miso.", "I play the cello.",
         "I was born in 1990.", "I am flying to Tokyo in May."]


def quick_model(words: int = 6) -> SlowScriptedModel:
    return SlowScriptedModel(pieces=words, delay=0.0)


def make_app(data_dir: Path, embedder, model=None, strategy: str = "mem0", clock=None) -> MemcliApp:
    settings = load_settings(data_dir=data_dir, max_tokens=48, n_ctx=2048)
    engine = Engine(settings, clock=clock or SimulatedClock(), embedder=embedder)
    chat = Chat(engine, StrategyRegistry(data_dir / "no-plugins"), model=model or quick_model(),
                          strategy=strategy, llm_memory="off")
    return MemcliApp(chat, settings, warm_up=False)


def close(app: MemcliApp) -> None:
    app.chat.close()
    app.chat.engine.close()


async def choose(pilot, name: str) -> None:
    """Highlight a strategy in the open strategy dialog."""
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)].index(name)
    await settle(pilot)


def user_messages(app: MemcliApp) -> list[str]:
    return [e.payload["text"] for e in app.chat.engine.store.events(kinds=["message.user"])]


def with_facts(app: MemcliApp, n: int = len(FACTS), clock: SimulatedClock | None = None) -> MemcliApp:
    for text in FACTS[:n]:
        app.chat.send(text, reply="Noted.")
        if clock is not None:
            clock.advance("1h")
    app.chat.drain()
    return app


# -- 1. Enter in a dialog never reaches the chat -------------------------------------------

async def test_enter_in_a_dialog_field_does_not_send_a_chat_message(tmp_path, embedder) -> None:
    app = with_facts(make_app(tmp_path / "d", embedder), 3)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            before = user_messages(app)
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert isinstance(app.screen, TimeTravelScreen)
            app.screen.query_one("#tt-seq", Input).focus()
            await pilot.press("5", "0", "enter")
            await settle(pilot)
            await pilot.press("escape")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, StrategyScreen)
            await choose(pilot, "rag-turns")
            field = app.screen.query_one("#param-mode", Input)
            field.focus()
            field.value = ""
            await pilot.press(*"hybridx", "enter")
            await settle(pilot)
            assert user_messages(app) == before
    finally:
        close(app)


# -- 2 and 3. The feed and the chat follow new content -------------------------------------

@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_feed_follows_new_events_and_counts_them_when_scrolled_up(tmp_path, embedder, size) -> None:
    app = with_facts(make_app(tmp_path / "d", embedder), 8)
    for text in FACTS[:8] * 2:  # the same facts again: retrievals and reinforcements, more rows than lines
        app.chat.send(text, reply="Noted.")
    app.chat.drain()
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            feed = app.query_one(Feed)
            assert feed.row_count > size[1]  # more rows than the screen has lines
            assert feed.region.bottom <= size[1] and feed.max_scroll_y > 0
            assert feed.scroll_y == feed.max_scroll_y, "the feed starts at the newest event"
            await pilot.click("#prompt")
            await pilot.press(*FACTS[8], "enter")
            await settle(pilot)
            assert feed.scroll_y == feed.max_scroll_y
            feed.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause()
            await pilot.press(*FACTS[9], "enter")
            await settle(pilot)
            assert feed.scroll_y == 0, "scrolled up, the reader stays where they are"
            marker = app.query_one("#feed-unseen")
            assert marker.display and "new" in str(marker.render())
            feed.focus()
            await pilot.press("end")
            await pilot.pause()
            assert feed.scroll_y == feed.max_scroll_y and not marker.display
    finally:
        close(app)


async def test_chat_scrolls_to_the_newest_reply(tmp_path, embedder) -> None:
    app = make_app(tmp_path / "d", embedder, model=quick_model(words=40))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for text in FACTS[:4]:
                await pilot.click("#prompt")
                await pilot.press(*text, "enter")
                await settle(pilot)
            log = app.query_one(ChatLog)
            assert log.max_scroll_y > 0
            assert log.scroll_y == log.max_scroll_y, "the newest reply is in view"
    finally:
        close(app)


# -- 4. A feed row opens its own namespace's memory ----------------------------------------

async def test_feed_row_opens_the_memory_of_its_namespace(tmp_path, embedder) -> None:
    app = with_facts(make_app(tmp_path / "d", embedder, strategy="memorybank"), 3)
    app.chat.switch("mem0")
    app.chat.backfill()
    app.chat.send("I moved to Porto.", reply="Noted.")
    app.chat.drain()
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            feed = app.query_one(Feed)
            rows = [feed.get_row_at(i) for i in range(feed.row_count)]
            row = next(i for i, r in enumerate(rows) if str(r[3]) == "memorybank" and str(r[2]) == "added")
            feed.focus()
            feed.move_cursor(row=row)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, MemoryScreen)
            assert app.screen.memory.namespace == "memorybank"
            assert app.screen.memory.id == str(rows[row][4])
            await pilot.click("#pin")  # the change goes to that namespace's memory, not mem0's of the same id
            await settle(pilot)
            assert app.chat.engine.store.memory("memorybank", str(rows[row][4])).pinned
            assert not app.chat.engine.store.memory("mem0", str(rows[row][4])).pinned
    finally:
        close(app)


# -- 5. Time travel: ← → step, and a time or a turn is accepted -----------------------------

async def test_time_travel_arrows_step_and_turns_and_times_are_accepted(tmp_path, embedder) -> None:
    clock = SimulatedClock()
    app = with_facts(make_app(tmp_path / "d", embedder, clock=clock), 5, clock=clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+t")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, TimeTravelScreen)
            start = screen.index
            await pilot.press("left")
            await settle(pilot)
            assert screen.index == start - 1
            await pilot.press("right")
            await settle(pilot)
            assert screen.index == start
            box = screen.query_one("#tt-seq", Input)
            await pilot.press("t")  # typed with the table focused: it goes to the input
            await pilot.pause()
            await pilot.press(*"urn 1", "enter")
            await settle(pilot)
            assert "turn 1" in screen.note, (box.value, [n.message for n in app._notifications])
            table = screen.query_one("#tt-table", DataTable)
            added = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert added.count(" ") == 1, "as of turn 1, only the first memory existed"
            box.value = ""
            await pilot.press(*"2026-01-01T02:30", "enter")  # after the third message
            await settle(pilot)
            added = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert added.count(" ") + added.count("~") == 3
    finally:
        close(app)


# -- 6. App keys from every focus; typing on the memories view filters ---------------------

async def test_view_keys_work_from_the_filter_and_typing_filters(tmp_path, embedder) -> None:
    from textual.widgets import TabbedContent

    app = with_facts(make_app(tmp_path / "d", embedder), 4)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            tabs = app.query_one(TabbedContent)
            await pilot.press("f3")
            await pilot.pause()
            await pilot.press(*"nurse")
            await pilot.pause()
            assert app.query_one("#memory-filter", Input).value == "nurse"
            assert app.query_one(PromptInput).value == ""
            table = app.query_one(MemoriesView).query_one(DataTable)
            assert table.row_count == 1
            keys = [k.value for k in table.columns]
            start = sum(c.get_render_width(table) for c in list(table.columns.values())[:keys.index("text")])
            assert table.scrollable_content_region.width - start >= 20, "the text shows beside id and status"
            for key, view in (("f2", "feed"), ("f4", "retrieval"), ("f5", "context"), ("f3", "memories")):
                await pilot.press(key)
                await pilot.pause()
                assert tabs.active == view
            for key, view in (("f4", "retrieval"), ("f5", "context")):  # straight from the focused filter
                await pilot.press("f3")
                await pilot.pause()
                assert app.focused is app.query_one("#memory-filter", Input)
                await pilot.press(key)
                await pilot.pause()
                assert tabs.active == view, f"{key} from the memories filter"
            table.focus()
            await pilot.press("x")
            assert app.query_one("#memory-filter", Input).value == "nursex"
    finally:
        close(app)


# -- 7 and 8. The strategy dialog: every field reachable, backfill on for an empty one -----

@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_strategy_parameter_is_reachable(tmp_path, embedder, size) -> None:
    app = with_facts(make_app(tmp_path / "d", embedder), 2)
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            screen = app.screen
            for name in ("memorybank", "mem0"):
                await choose(pilot, name)
                fields = list(screen.query("#strategy-params Input")) + [screen.query_one("#backfill")]
                assert len(fields) > 1
                for widget in fields:
                    widget.focus()
                    await pilot.pause()
                    await pilot.pause()
                    region = widget.region
                    assert region.height > 0 and region.bottom <= size[1], f"{widget.id} is not visible"
    finally:
        close(app)


async def test_backfill_is_on_for_an_empty_strategy_and_reads_without_colour(tmp_path, embedder) -> None:
    app = with_facts(make_app(tmp_path / "d", embedder), 3)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            screen = app.screen
            await choose(pilot, "memorybank")
            box = screen.query_one("#backfill", Checkbox)
            assert box.value, "an empty namespace is backfilled by default"
            assert "X" in str(box._button)
            box.value = False
            await pilot.pause()
            assert "X" not in str(box._button), "unchecked reads differently without colour"
            box.value = True
            await pilot.click("#switch")
            await settle(pilot)
            assert app.chat.namespace == "memorybank"
            assert app.chat.engine.store.count_added("memorybank") == 3
    finally:
        close(app)


async def test_enter_on_a_highlighted_strategy_switches_to_it(tmp_path, embedder) -> None:
    """Found trying the workbench: ↓ to a strategy and Enter did nothing; Enter on the list switches (with defaults)."""
    app = with_facts(make_app(tmp_path / "d", embedder), 2)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            app.screen.query_one(OptionList).focus()
            await choose(pilot, "memorybank")
            await pilot.press("enter")
            await settle(pilot)
            assert app.chat.namespace == "memorybank"
            assert user_messages(app) == FACTS[:2], "the Enter never reached the chat"
    finally:
        close(app)


# -- 11. A watched replay's edits reach the feed -------------------------------------------

def test_replay_edits_go_through_the_session(tmp_path, settings, embedder) -> None:
    from memcli.replay import format as f
    from memcli.replay.runner import play_step

    seen = []
    clock = SimulatedClock()
    engine = Engine(settings, clock=clock, embedder=embedder)
    chat = Chat(engine, StrategyRegistry(tmp_path / "none"), model=None, strategy="mem0", background=False)
    engine.subscribe(seen.extend)
    try:
        chat.send("I live in Lisbon.", reply="Noted.")
        step = f.EditStep(edit=f.Match(match="Lisbon"), text="User: I live in Porto")
        play_step(chat, clock, step, 2, settings)
        assert "memory.edited" in [e.kind.value for e in seen]
    finally:
        chat.close()
        engine.close()


# -- 10. A failed turn leaves no orphan user message ---------------------------------------

def test_a_failed_turn_logs_nothing_or_a_finished_turn(tmp_path, settings, embedder) -> None:
    from memcli.model.base import ContextOverflowError

    class Failing(SlowScriptedModel):
        def stream(self, messages, **kwargs):
            raise RuntimeError("the model crashed")

    engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
    chat = Chat(engine, StrategyRegistry(tmp_path / "none"), model=quick_model(), strategy="mem0",
                          llm_memory="off", background=False)
    try:
        with pytest.raises(ContextOverflowError):
            chat.send("word " * 5000)
        assert engine.store.events() == [], "a message that cannot fit is not logged"
        chat.model = Failing()
        with pytest.raises(RuntimeError):
            chat.send("I am allergic to peanuts.")
        messages = engine.store.events(kinds=["message.user", "message.assistant"])
        assert [m.payload["stats"]["finish_reason"] for m in messages[1:]] == ["error"]
        live = [m.text for m in engine.store.memories("mem0")]
        assert live == ["User: I am allergic to peanuts"], "the turn was processed for memory"
        chat.backfill("mem0", namespace="mem0-again")
        assert [m.text for m in engine.store.memories("mem0-again")] == live
    finally:
        chat.close()
        engine.close()


# -- 12. Smaller ones: user text is never markup; the footer keeps ^s ^t at 80 columns ------

async def test_user_text_is_shown_literally_and_the_footer_fits_80_columns(tmp_path, embedder) -> None:
    from textual.widgets._footer import FooterKey

    app = make_app(tmp_path / "d", embedder)
    app.chat.send("I keep notes like [/oops] and [b]this[/b].", reply="Noted [red]ok[/].")
    app.chat.drain()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            feed = app.query_one(Feed)
            details = [str(feed.get_row_at(i)[5]) for i in range(feed.row_count)]
            assert any("[/oops]" in d for d in details)
            await pilot.press("f3")
            await pilot.pause()
            table = app.query_one(MemoriesView).query_one(DataTable)
            assert any("[b]this[/b]" in str(table.get_cell_at((i, 2))) for i in range(table.row_count))
            keys = {k.key: k for k in app.screen.query(FooterKey)}
            for key in ("ctrl+s", "ctrl+t"):
                assert key in keys and keys[key].region.right <= 80 and keys[key].region.width > 0, key
            assert "1 memory" in str(app.query_one("#status").render())
    finally:
        close(app)


# -- A reply withheld as a near copy and retried: the bubble shows what was logged ----------

async def test_a_retried_repeat_leaves_only_the_logged_reply_in_the_bubble(tmp_path, embedder) -> None:
    """The repeat guard lets a reply stream once its start differs from the recent ones; when the whole
    reply then turns out a near copy it is retried, and the bubble must not keep both attempts."""
    from memcli.core.events import Kind
    from memcli.model.base import Generation, GenerationStats
    from memcli.tui.bubble import Bubble

    first = "Hello there friend, the weather is lovely today and I like it a lot."
    near_copy = "Hi there friend, the weather is lovely today and I like it a lot."  # differs at once

    class NearCopies(SlowScriptedModel):
        def __init__(self) -> None:
            super().__init__(pieces=0, delay=0.0)
            self.calls = 0

        def stream(self, messages, *, max_tokens=None, temperature=None, cancel=None, seed=None):
            self.calls += 1
            text = first if self.calls == 1 else near_copy if not seed else "Something else entirely."
            return Generation(iter(text.split(" ")[:1] + [" " + w for w in text.split(" ")[1:]]),
                              GenerationStats(self.model_id, finish_reason="stop"))

    app = make_app(tmp_path / "d", embedder, NearCopies())
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            for message in ("Tell me something.", "Tell me something else."):
                await pilot.click("#prompt")
                await pilot.press(*message, "enter")
                await settle(pilot)
            replies = [e.payload["text"] for e in app.chat.engine.store.events(kinds=[Kind.MESSAGE_ASSISTANT])]
            assert replies == [first, "Something else entirely."]
            bubbles = [b.source.strip() for b in app.query(Bubble) if b.border_title == "assistant"]
            assert bubbles == replies
    finally:
        close(app)
