"""Starting the workbench: open the chat (a busy data dir is a one-line error, before the app
starts), attach to a running `memcli mcp` instead when one serves the data dir, or play a
session file into a temporary data dir (`memcli chat --watch`)."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from memcli.chat import Chat
from memcli.core.events import Kind
from memcli.settings import Settings


def resume_last_strategy(chat: Chat) -> None:
    """Resume the strategy in use when the workbench last closed (the last switch in the log)."""
    switches = chat.engine.store.events(kinds=[Kind.STRATEGY_SWITCHED.value], newest=1)
    name = switches[0].payload.get("to") if switches else None
    if name and name != chat.namespace:
        try:
            chat.strategy = chat.registry.create(name, switches[0].payload.get("params"))
        except Exception:  # noqa: BLE001 - a plugin since removed or broken: the configured strategy stays
            pass


def run_workbench(settings: Settings, *, strategy: str | None = None, params: dict | None = None,
                  cassette: Path | None = None, cassette_mode: str = "auto", replay: Path | None = None) -> None:
    """Open the chat (errors are one line), then run the app until the user quits. `replay`: a
    session file to watch play (into a temporary data dir, on its simulated clock)."""
    from memcli.chat import open_chat
    from memcli.model.factory import build_chat_model
    from memcli.tui.app import MemcliApp

    if replay is None:
        from memcli.mcp.control import running_server

        served = running_server(settings.data_dir)
        if served is not None:  # `memcli mcp` owns the data dir: attach to it rather than fail with "in use"
            from memcli.mcp.attach import RemoteChat

            remote = RemoteChat(served, settings.data_dir)
            try:
                MemcliApp(remote, settings, warm_up=False, attached=True).run()  # type: ignore[arg-type]
            finally:
                remote.close()
            return
    with ExitStack() as stack:
        replay_state = None
        clock = None
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
        model = build_chat_model(settings, cassette=cassette, mode=cassette_mode)  # type: ignore[arg-type]
        chat = stack.enter_context(open_chat(
            settings, strategy=strategy or (replay_state[0].strategy if replay_state else None),
            params=params or (replay_state[0].params if replay_state else None), model=model, clock=clock))
        if replay is None and strategy is None:
            resume_last_strategy(chat)
        MemcliApp(chat, settings, replay=replay_state).run()
