"""The workbench takes keys before the chat is open (issue #18): the chat opens in a worker, a
message typed meanwhile is kept and sent once it is, and an error opening it ends the app with
the opener's error (the CLI's one line)."""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack

import pytest

from doubles import SlowScriptedModel
from test_tui import settle
from memcli.chat import Chat
from memcli.clock import SimulatedClock
from memcli.engine import Engine
from memcli.errors import MemcliError
from memcli.settings import load_settings
from memcli.strategy.registry import StrategyRegistry
from memcli.tui.app import MemcliApp
from memcli.tui.chat import PromptInput
from memcli.tui.run import ChatOpening, workbench


async def until(pilot, condition) -> None:
    """Let the app run until `condition()` holds (no fixed wait: however slow the machine)."""
    while not condition():
        await pilot.pause(0.01)


async def test_a_message_typed_before_the_chat_is_open_is_sent_once_it_is(tmp_path, embedder) -> None:
    settings = load_settings(data_dir=tmp_path / "d", max_tokens=48, n_ctx=2048)
    may_open = threading.Event()

    def open_() -> Chat:
        may_open.wait()  # the data dir is slow to open: the user types first
        engine = Engine(settings, clock=SimulatedClock(), embedder=embedder)
        return Chat(engine, StrategyRegistry(tmp_path / "no-plugins"), model=SlowScriptedModel(pieces=4, delay=0.0),
                    strategy="mem0", llm_memory="off")

    opening = ChatOpening(open_)
    app = MemcliApp(None, settings, warm_up=False, opener=opening)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press(*"I live in Lisbon.")
            assert app.query_one(PromptInput).value == "I live in Lisbon."  # the prompt took the keys
            assert app.focused is app.query_one(PromptInput)  # focused from the first frame (AUTO_FOCUS)
            await pilot.press("ctrl+j")  # an Enter typed before the app had the terminal arrives as a newline
            assert app.chat is None and "sent once it is open" in str(app.query_one("#status").render())
            may_open.set()
            await until(pilot, lambda: app.chat is not None)
            await settle(pilot)
            texts = [e.payload["text"] for e in app.chat.engine.store.events(kinds=["message.user"])]
            assert texts == ["I live in Lisbon."]
            assert app.chat.engine.store.events(kinds=["message.assistant"])  # and it was answered
            assert app.query_one(PromptInput).value == ""
    finally:
        may_open.set()
        if app.chat is not None:
            app.chat.close()
            app.chat.engine.close()


def test_a_busy_data_dir_ends_the_app_with_the_one_line_error(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path / "d")
    with ExitStack() as holder:  # another workbench holds the data dir
        app, opening = workbench(settings, holder, strategy="mem0")
        assert asyncio.run(_open_and_quit(app)) is not None
        with ExitStack() as stack:
            second, second_opening = workbench(settings, stack, strategy="mem0")
            asyncio.run(_run_until_exit(second))
            assert second.return_code == 1 and second.chat is None
            with pytest.raises(MemcliError) as raised:
                second_opening.settle()
            assert "\n" not in str(raised.value)
        opening.settle()


async def _open_and_quit(app: MemcliApp) -> Chat | None:
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.chat is not None)
        await settle(pilot)
        return app.chat


async def _run_until_exit(app: MemcliApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.return_code is not None)


@pytest.mark.parametrize("where", ["a-file", "a-file/sub"])
def test_a_data_dir_that_cannot_be_a_folder_is_the_one_line_error(tmp_path, where) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    settings = load_settings(data_dir=tmp_path / where)
    with ExitStack() as stack:
        app, opening = workbench(settings, stack, strategy="mem0")
        asyncio.run(_run_until_exit(app))
        with pytest.raises(MemcliError, match="cannot use .* as a data dir"):
            opening.settle()
    assert (tmp_path / "a-file").read_text() == "not a folder"
