"""Starting the workbench: the app is up and takes keys at once, while a worker opens the chat
(`ChatOpening`: DuckDB, the engine, the strategies, the model); a busy or bad data dir ends the
app and is the same one-line error as before the app existed. Or attach to a running `memcli mcp`
when one serves the data dir, or play a session file into a temporary data dir (`memcli chat --watch`)."""

from __future__ import annotations

import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from memcli.chat import Chat
    from memcli.settings import Settings
    from memcli.tui.app import MemcliApp


def resume_last_strategy(chat: Chat) -> None:
    """Resume the strategy in use when the workbench last closed (the last switch in the log)."""
    from memcli.core.events import Kind

    switches = chat.engine.store.events(kinds=[Kind.STRATEGY_SWITCHED.value], newest=1)
    name = switches[0].payload.get("to") if switches else None
    if name and name != chat.namespace:
        try:
            chat.strategy = chat.registry.create(name, switches[0].payload.get("params"))
        except Exception:  # noqa: BLE001 - a plugin since removed or broken: the configured strategy stays
            pass


class ChatOpening:
    """Opens the chat once, in the app's worker thread (`__call__`), and keeps how it went for
    `run_workbench`: after the app has ended it waits for an opening still under way (so the chat
    is closed, never left half open), then re-raises its error (one line for a user's mistake, as
    when the chat was opened before the app)."""

    def __init__(self, open_: Callable[[], Chat]) -> None:
        self._open = open_
        self._started = False
        self._done = threading.Event()
        self.error: BaseException | None = None

    def __call__(self) -> Chat:
        self._started = True
        try:
            return self._open()
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self._done.set()

    def settle(self) -> None:
        """Wait for an opening under way; raise the error it ended with."""
        if self._started:
            self._done.wait()
        if self.error is not None:
            raise self.error


def run_workbench(settings: Settings, *, strategy: str | None = None, params: dict | None = None,
                  cassette: Path | None = None, cassette_mode: str = "auto", replay: Path | None = None) -> None:
    """Run the app until the user quits; the chat opens in its worker (errors are one line, after the
    app has ended). `replay`: a session file to watch play (into a temporary data dir, on its simulated clock)."""
    if replay is None:
        from memcli.mcp.control import running_server

        served = running_server(settings.data_dir)
        if served is not None:  # `memcli mcp` owns the data dir: attach to it rather than fail with "in use"
            from memcli.mcp.attach import RemoteChat
            from memcli.tui.app import MemcliApp

            remote = RemoteChat(served, settings.data_dir)
            try:
                MemcliApp(remote, settings, warm_up=False, attached=True).run()  # type: ignore[arg-type]
            finally:
                remote.close()
            return
    with ExitStack() as stack:
        app, opening = workbench(settings, stack, strategy=strategy, params=params, cassette=cassette,
                                 cassette_mode=cassette_mode, replay=replay)
        app.run()
        opening.settle()


def workbench(settings: Settings, stack: ExitStack, *, strategy: str | None = None, params: dict | None = None,
              cassette: Path | None = None, cassette_mode: str = "auto",
              replay: Path | None = None) -> tuple[MemcliApp, ChatOpening]:
    """The app, and the opening its worker runs (the chat it opens is closed with `stack`). Run the
    app, then `settle()` the opening: nothing heavy (DuckDB, the engine, the model) is imported here."""
    from memcli.tui.app import MemcliApp

    replay_state: Any = None
    if replay is not None:
        from memcli.clock import SimulatedClock
        from memcli.replay.loading import load_session

        spec = load_session(replay)
        clock = SimulatedClock(spec.clock.start)
        settings = settings.model_copy(update={"data_dir": Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="memcli-watch-")))})
        cassette = replay.parent / spec.cassette if spec.cassette else cassette
        cassette_mode = "replay" if cassette and cassette.exists() else cassette_mode
        replay_state = (spec, clock)

    def open_() -> Chat:
        from memcli.chat import open_chat
        from memcli.model.factory import build_chat_model

        model = build_chat_model(settings, cassette=cassette, mode=cassette_mode)  # type: ignore[arg-type]
        chat = stack.enter_context(open_chat(
            settings, strategy=strategy or (replay_state[0].strategy if replay_state else None),
            params=params or (replay_state[0].params if replay_state else None), model=model,
            clock=replay_state[1] if replay_state else None))
        if replay is None and strategy is None:
            resume_last_strategy(chat)
        return chat

    opening = ChatOpening(open_)
    return MemcliApp(None, settings, replay=replay_state, opener=opening), opening
