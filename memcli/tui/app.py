"""The Textual workbench: chat on the left, the memory at work on the right.

Everything that touches the engine, the model or the embedder runs in thread
workers (`@work(thread=True)`), and reports back with `call_from_thread`; the
UI thread only draws. The session is opened before the app starts (so a busy
data dir is a one-line error), and the embedder (torch) and the model load in
the background while the first screen is already interactive.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from memcli.core import operations as ops
from memcli.core.events import Event, Kind
from memcli.errors import MemcliError
from memcli.chat import Chat
from memcli.settings import Settings
from memcli.tui.chat import Bubble, ChatLog, PromptInput
from memcli.tui.glyphs import plural
from memcli.tui.panels import ContextView, Feed, FeedPane, MemoriesView, OpenMemory, RetrievalView
from memcli.tui.screens import (
    BackfillScreen, HelpScreen, MemoryAction, MemoryScreen, StrategyChoice, StrategyScreen, TimeTravelScreen,
    memory_events, source_events,
)

CSS = """
Screen { layout: vertical; }
#main { height: 1fr; }
#chat-pane { width: 1fr; min-width: 36; }
#side { width: 1fr; min-width: 40; border-left: vkey $primary 30%; }
Screen.-narrow #main { layout: vertical; }
Screen.-narrow #side { border-left: none; border-top: hkey $primary 30%; height: 1fr; }
ChatLog { height: 1fr; padding: 0 1; }
.bubble { margin: 1 0 0 0; padding: 0 1; border: round $primary 40%; border-title-color: $text-muted; }
.bubble.user { border: round $success 50%; margin-left: 4; }
.bubble.assistant { margin-right: 4; }
.bubble.streaming { border: round $warning 60%; }
PromptInput { dock: bottom; margin: 0 1; }
#status { height: 1; background: $boost; color: $text-muted; padding: 0 1; }
#side ContentSwitcher, #side TabPane, FeedPane, MemoriesView { height: 1fr; }
#side TabPane { padding: 0; }
Feed, #memory-table { height: 1fr; }
#feed-unseen { height: 1; background: $warning 30%; display: none; }
#dialog { width: 90%; height: 85%; border: thick $primary 60%; background: $surface; padding: 1 2; }
#memory-body { height: 1fr; }
#memory-retention { height: 14; }
#cmp-head { height: 1; }
#cmp-a { width: auto; }
#cmp-b { width: 30; }
#cmp-summary { color: $text-muted; width: 1fr; }
#cmp-tabs, #cmp-tabs TabPane, #cmp-mem-scroll { height: 1fr; }
#cmp-tabs TabPane { padding: 0; }
#cmp-questions { height: 7; }
CompareScreen.-narrow #cmp-questions { height: 5; }
#cmp-ret { height: 1fr; }
#cmp-ret VerticalScroll { width: 1fr; }
#plot-tabs, #plot-tabs TabPane, #plot-tabs PlotextPlot { height: 1fr; }
CompareScreen.-narrow #dialog, PlotScreen.-narrow #dialog { width: 100%; height: 100%; padding: 0 1; }
#edit-text { height: 1fr; }
#strategy-body { height: 1fr; }
#strategy-list { width: 28; }
#strategy-info { padding: 0 1; }
#strategy-params { height: auto; }
#strategy-params Label { width: 1fr; }
StrategyScreen.-narrow #strategy-list { width: 18; }
StrategyScreen.-narrow #dialog { width: 100%; height: 100%; padding: 0 1; }
#tt-table { height: 1fr; }
.buttons { height: auto; align-horizontal: right; margin-top: 1; }
.buttons Button { margin-left: 2; }
.hint { color: $text-muted; }
BackfillScreen #dialog, EditScreen #dialog { height: auto; max-height: 80%; }
EditScreen #edit-text { height: 8; }
"""


STREAM_INTERVAL_S = 0.05


class MemcliApp(App[None]):
    TITLE = "memcli"
    CSS = CSS
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        # priority: the view keys work from every focus (an input must not swallow them);
        # the dialogs first, so that a narrow footer cuts a view key rather than them
        Binding("ctrl+s", "strategy", "strategy", id="app.strategy", priority=True),
        Binding("ctrl+t", "timetravel", "time travel", id="app.timetravel", priority=True),
        Binding("f1", "help", "help", id="app.help", priority=True),
        Binding("f2", "view('feed')", "feed", id="app.feed", priority=True),
        Binding("f3", "view('memories')", "memories", id="app.memories", priority=True),
        Binding("f4", "view('retrieval')", "retrieval", id="app.retrieval", priority=True),
        Binding("f5", "view('context')", "context", id="app.context", priority=True),
        # after the views: at 80 columns the footer cuts these two (F1 help and Ctrl+P list them)
        Binding("ctrl+o", "compare", "compare", id="app.compare", priority=True),
        Binding("ctrl+g", "plots", "plots", id="app.plots", priority=True),
        Binding("escape", "cancel_reply", "stop reply", show=False, id="app.cancel"),
        Binding("f6", "pause", "pause replay", show=False, id="app.replay_pause"),
        Binding("f7", "speed(0.5)", "slower", show=False, id="app.replay_slower"),
        Binding("f8", "speed(2)", "faster", show=False, id="app.replay_faster"),
        Binding("ctrl+q", "quit", "quit", id="app.quit"),
    ]

    def __init__(self, chat: Chat, settings: Settings, *, replay: Any = None,
                 warm_up: bool = True, attached: bool = False) -> None:
        super().__init__()
        self.chat = chat
        self.attached = attached  # the data dir is served by `memcli mcp`: watch and edit through it
        self.settings = settings
        self.replay = replay  # (SessionFile, SimulatedClock) or None
        self.warm_up = warm_up
        self._cancel: threading.Event | None = None
        self._stream: Any = None
        self._stream_bubble: Bubble | None = None
        self._busy = False
        self._paused = threading.Event()
        self._speed = 1.0
        self._tps = 0.0
        self._loading = "loading…" if warm_up else ""
        self._ui_thread = threading.get_ident()
        chat.on_event = self._engine_event

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◈")
        with Horizontal(id="main"):
            with Vertical(id="chat-pane"):
                yield ChatLog(id="chat")
                yield PromptInput(id="prompt")
            with TabbedContent(id="side", initial="feed"):
                with TabPane("Feed", id="feed"):
                    yield FeedPane()
                with TabPane("Memories", id="memories"):
                    yield MemoriesView(id="memories-view")
                with TabPane("Retrieval", id="retrieval"):
                    yield RetrievalView()
                with TabPane("Context", id="context"):
                    yield ContextView()
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ui_thread = threading.get_ident()
        self.sub_title = f"{self.chat.namespace} · {self.settings.data_dir}"
        self.query_one(PromptInput).focus()
        self._status()
        self.refresh_memories()
        self._load_history()
        if self.warm_up:  # after the first screen is up: imports hold the GIL and would delay it
            self.set_timer(0.6, self._warm_up)
        if self.replay is not None:
            self.query_one(PromptInput).disabled = True
            self._play()
        if self.attached:
            prompt = self.query_one(PromptInput)
            prompt.placeholder = "an agent holds this conversation (memcli mcp): watch and edit its memories"
            prompt.disabled = True

    def _status(self) -> None:
        model = getattr(self.chat.model, "model_id", "no model")
        count = getattr(self, "_memory_count", 0)
        source = f"attached to memcli mcp (pid {self.chat.info.pid})" if self.attached else f"model {model}"
        parts = [source, f"strategy {self.chat.namespace}", plural(count, "memory", "memories")]
        if self._tps:
            parts.append(f"{self._tps:.0f} tok/s")
        if self.replay is not None:
            parts.append(f"replay {'paused' if self._paused.is_set() else f'×{self._speed:g}'} (F6 F7 F8)")
        if self._loading:
            parts.append(self._loading)
        self.query_one("#status", Static).update(" · ".join(parts))

    def get_system_commands(self, screen: Screen) -> Any:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Switch strategy", "Choose a memory strategy, set its parameters, backfill it",
                            self.action_strategy)
        yield SystemCommand("Time travel", "See the memories as of an earlier event", self.action_timetravel)
        yield SystemCommand("Compare strategies", "Two strategies' memories by source turn, and their retrievals "
                            "for each question", self.action_compare)
        yield SystemCommand("Plots", "Retention curves (memorybank) and memories per status after each turn",
                            self.action_plots)
        for view in ("feed", "memories", "retrieval", "context"):
            yield SystemCommand(f"Show {view}", f"Open the {view} view", lambda v=view: self.action_view(v))

    # -- engine events (any thread) → UI ---------------------------------------------------

    def _engine_event(self, event: Event) -> None:
        if threading.get_ident() == self._ui_thread:
            if self.is_running:  # before the app runs, _load_history shows what is logged
                self.call_next(self._on_event, event)
        else:
            self.call_from_thread(self._on_event, event)

    async def _on_event(self, event: Event) -> None:
        self.query_one(Feed).add_event(event)
        log = self.query_one(ChatLog)
        if event.kind is Kind.MESSAGE_USER:
            await log.add(event.payload.get("text", ""), "user")
        elif event.kind is Kind.MESSAGE_ASSISTANT and not self._busy:
            await log.add(event.payload.get("text", ""), "assistant")  # replays; a live reply streams itself
        elif event.kind is Kind.MEMORY_RETRIEVED:
            self.query_one(RetrievalView).show(event)
        elif event.kind is Kind.CONTEXT_BUILT:
            self.query_one(ContextView).show(event, self.settings.n_ctx)
        if event.memory_id or event.kind is Kind.STRATEGY_SWITCHED:
            self.refresh_memories()

    # -- background work -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """Load the embedder (ONNX Runtime, or torch for a model folder), load the model, bring the index up to the log."""
        started = time.perf_counter()
        self.chat.engine.embedder.load()  # type: ignore[attr-defined]
        self.chat.engine.reconcile()
        if self.chat.model is not None:
            self._set_loading("loading the model…")
            self.chat.model.load()  # type: ignore[attr-defined]
        # in the status bar, not a toast: a toast would cover it
        self._set_loading(f"ready in {time.perf_counter() - started:.1f} s")
        time.sleep(5)
        self._set_loading("")

    def _set_loading(self, text: str) -> None:
        self._loading = text
        self.call_from_thread(self._status)

    @work(thread=True, exclusive=True, group="memories", exit_on_error=False)
    def refresh_memories(self) -> None:
        store = self.chat.engine.store
        ns = self.chat.namespace
        memories = store.memories(ns, None)
        now = self.chat.engine.clock.now()
        states = [m for m in memories if m.kind == "state" and m.status == "active"]
        changes = {m.id: last_change(store, ns, m.id) for m in states}
        self.call_from_thread(self._show_memories, memories, now, states, changes)

    def _show_memories(self, memories: list, now: Any, states: list, changes: dict) -> None:
        self._memory_count = sum(m.status == "active" for m in memories)
        self.query_one(MemoriesView).show(memories, now)
        self.query_one(RetrievalView).show_state(states, changes)
        self.sub_title = f"{self.chat.namespace} · {self.settings.data_dir}"
        self._status()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load_history(self) -> None:
        """Show the stored conversation (the last 50 messages) when the workbench opens."""
        from memcli.strategy.view import MESSAGE_KINDS, turn_from_event

        # the store only: opening the vector index (importing lancedb) would hold up the first screen
        store = self.chat.engine.store
        upto = store.last_seq  # attached: the live feed follows from here, without a gap or a repeat
        turns = [turn_from_event(e) for e in store.events(kinds=MESSAGE_KINDS, newest=50, until=upto)]
        events = store.events(kinds=[k.value for k in Kind if k.value.startswith(("memory.", "strategy.", "mcp."))],
                              until=upto)[-500:]
        self.call_from_thread(self._show_history, turns, events)
        if self.attached:
            self.chat.follow(upto)  # type: ignore[attr-defined]

    async def _show_history(self, turns: list, events: list[Event]) -> None:
        from memcli.model.factory import EMPTY_CHAT_HINT, model_line

        log = self.query_one(ChatLog)
        hint = model_line(self.chat.model) + ("" if turns else "\n" + EMPTY_CHAT_HINT)
        if self.attached:
            pid = self.chat.info.pid  # type: ignore[attr-defined]
            hint = (f"attached to memcli mcp (pid {pid}): the agent's turns and memory work appear here live; "
                    "open a memory to edit, pin or forget it")
        await log.mount(Static(hint, id="first-run", classes="hint"))
        for t in turns:
            await log.add(t.text, t.role)
        feed = self.query_one(Feed)
        for e in events:
            feed.add_event(e)

    # -- chatting --------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#prompt")  # only the chat prompt: a dialog's Input.Submitted bubbles here too
    def _submit(self, event: PromptInput.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self._busy:
            self.notify("A reply is still coming: press Esc to stop it first.", severity="warning")
            return
        prompt = self.query_one(PromptInput)
        prompt.remember(text)
        prompt.value = ""
        self._busy = True
        self._turn(text)

    @work(thread=True, exclusive=True, group="turn", exit_on_error=False)
    def _turn(self, text: str) -> None:
        cancel = self._cancel = threading.Event()
        log = self.query_one(ChatLog)
        pending: list[str] = []
        last = [0.0]

        def flush() -> None:
            if pending:
                if self._stream is None:
                    self._stream_bubble, self._stream = self.call_from_thread(log.start_reply)
                self.call_from_thread(log.append, self._stream, "".join(pending))
                pending.clear()
            last[0] = time.monotonic()

        def piece(p: str) -> None:
            # Tokens reach the UI at most every 50 ms, in batches: the UI thread stays free for typing.
            pending.append(p)
            if time.monotonic() - last[0] >= STREAM_INTERVAL_S:
                flush()

        logged: str | None = None
        try:
            result = self.chat.send(text, k=self.settings.top_k, max_tokens=self.settings.max_tokens,
                                       cancel=cancel, on_piece=piece)
            flush()
            logged = result.reply.text if result.reply is not None else None
        except MemcliError as exc:
            self.call_from_thread(self._turn_failed, text, str(exc))
            return
        finally:
            self.call_from_thread(self._finish_stream, logged)
            self._busy = False
        if result.generation is not None:
            self._tps = result.generation.stats.tokens_per_s
            if result.generation.stats.finish_reason == "cancelled":
                self.call_from_thread(self.notify, "Reply stopped.", timeout=2)
        self.call_from_thread(self._status)

    async def _finish_stream(self, logged: str | None = None) -> None:
        """End the streamed reply; the bubble then shows the reply as logged (a near copy that had
        started to stream and was retried by the repeat guard, or a redacted secret, is not kept)."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self._stream_bubble is not None:
            if logged is not None and self._stream_bubble.source != logged:
                await self._stream_bubble.update(logged)
            self._stream_bubble.remove_class("streaming")
            self._stream_bubble = None

    def _turn_failed(self, text: str, error: str) -> None:
        prompt = self.query_one(PromptInput)
        prompt.value = text  # the prompt is restored, nothing typed is lost
        if self._stream_bubble is not None:
            self._stream_bubble.remove()
            self._stream_bubble = None
        self.notify(error, title="The turn failed", severity="error", timeout=8, markup=False)

    def action_cancel_reply(self) -> None:
        if self._cancel is not None and self._busy:
            self._cancel.set()

    # -- views and screens -----------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.query_one(TabbedContent).active = view
        target = {"feed": Feed, "memories": "#memory-filter"}.get(view)
        if target is not None:  # typing on the memories view goes to its filter
            self.query_one(target).focus()
        else:  # nothing to type into: typing goes to the chat again (focus left in a hidden pane would
            prompt = self.query_one(PromptInput)  # make TabbedContent switch back to that pane)
            if prompt.disabled:  # attached to a served data dir: no chat
                self.set_focus(None)
            else:
                prompt.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    @on(OpenMemory)
    def _open_memory(self, message: OpenMemory) -> None:
        self._load_memory(message.memory_id, message.namespace or self.chat.namespace)

    @work(thread=True, exclusive=True, group="memory", exit_on_error=False)
    def _load_memory(self, memory_id: str, ns: str) -> None:
        store = self.chat.engine.store
        memory = store.memory(ns, memory_id)
        if memory is None:
            self.call_from_thread(self.notify, f"{memory_id} is not in {ns}", severity="warning")
            return
        screen = MemoryScreen(memory, store.versions(ns, memory_id), source_events(store, memory),
                              memory_events(store, ns, memory_id), self._retention(ns, memory_id))
        self.call_from_thread(self.push_screen, screen, self._memory_action)

    def _memory_action(self, action: MemoryAction | None) -> None:
        if action is not None:
            self._apply_memory_action(action)

    @work(thread=True, exclusive=False, group="edit", exit_on_error=False)
    def _apply_memory_action(self, action: MemoryAction) -> None:
        op = {"edit": lambda: ops.Edit(memory_id=action.memory_id, text=action.text or "", reason="edited by hand"),
              "pin": lambda: ops.Pin(memory_id=action.memory_id, reason="pinned by hand"),
              "unpin": lambda: ops.Pin(memory_id=action.memory_id, pinned=False, reason="unpinned by hand"),
              "forget": lambda: ops.Delete(memory_id=action.memory_id, reason="forgotten by hand"),
              "restore": lambda: ops.Restore(memory_id=action.memory_id, reason="restored by hand")}[action.action]()
        try:
            self.chat.edit(op, action.namespace)
        except MemcliError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.call_from_thread(self.notify, f"{action.memory_id}: {action.action}", timeout=2)

    def _refuse_attached(self, what: str) -> bool:
        if self.attached:
            self.notify(f"{what} is not available while memcli mcp serves this data dir", severity="warning")
        return self.attached

    def action_strategy(self) -> None:
        if not self._refuse_attached("Switching strategy"):
            self._open_strategies()

    @work(thread=True, exclusive=True, group="strategies", exit_on_error=False)
    def _open_strategies(self) -> None:
        """Load the strategies (plugin imports) and which of them are still empty, off the UI thread."""
        registry, store = self.chat.registry, self.chat.engine.store
        strategies = {}
        for name in registry.names():
            try:
                strategies[name] = registry.load(name)
            except MemcliError:
                pass
        empty = {name for name in strategies if not store.count_added(name)}
        self.call_from_thread(self.push_screen, StrategyScreen(strategies, self.chat.namespace,
                                                               dict(registry.problems), empty), self._strategy_chosen)

    def _strategy_chosen(self, choice: StrategyChoice | None) -> None:
        if choice is not None:
            screen = BackfillScreen(choice.name) if choice.backfill else None
            if screen is not None:
                self.push_screen(screen)
            self._switch(choice, screen)

    @work(thread=True, exclusive=True, group="switch", exit_on_error=False)
    def _switch(self, choice: StrategyChoice, screen: BackfillScreen | None) -> None:
        try:
            self.chat.switch(choice.name, choice.params)
            if screen is not None:
                if self.chat.engine.store.count_added(choice.name):
                    self.call_from_thread(self.notify, f"{choice.name} already has memories: no backfill",
                                          severity="warning")
                else:
                    self.chat.backfill(k=self.settings.top_k,
                                          progress=lambda i, n: self.call_from_thread(screen.progress, i, n))
        except MemcliError as exc:
            self.call_from_thread(self.notify, str(exc), title="Switch failed", severity="error", timeout=8,
                                  markup=False)
        finally:
            if screen is not None:
                self.call_from_thread(screen.dismiss)
        self.call_from_thread(self.refresh_memories)

    def _retention(self, ns: str, memory_id: str | None = None, top: int = 5) -> tuple[list, float] | None:
        """memorybank's curves (this memory first, then the strongest) and its threshold; None for another strategy."""
        from memcli.core.curves import retention_curves
        from memcli.plots import NotRetention, memorybank_params

        store = self.chat.engine.store
        try:
            params = memorybank_params(store, ns, self.chat.registry)
        except NotRetention:
            return None
        unit = float(params["unit_hours"])
        ids = [c.memory_id for c in retention_curves(store, ns, unit_hours=unit, top=top, samples=1)]
        if memory_id is not None:
            ids = [memory_id] + [i for i in ids if i != memory_id][:top - 1]
        until = self.chat.engine.clock.now()
        return retention_curves(store, ns, unit_hours=unit, ids=ids, until=until), float(params["threshold"])

    def action_compare(self) -> None:
        self._open_compare()

    @work(thread=True, exclusive=True, group="compare-open", exit_on_error=False)
    def _open_compare(self) -> None:
        from memcli.tui.compare import CompareScreen

        store, ns = self.chat.engine.store, self.chat.namespace
        others = [n for n in store.namespaces() if n != ns]
        if not others:
            self.call_from_thread(self.notify, f"Only {ns} has memories: switch to another strategy with backfill "
                                  "(Ctrl+S), then compare.", severity="warning", timeout=6)
            return
        switches = store.events(kinds=[Kind.STRATEGY_SWITCHED.value], newest=1)
        last = switches[0].payload.get("from") if switches else None  # the strategy used before this one
        self.call_from_thread(self.push_screen, CompareScreen(store, ns, others, last))

    def action_plots(self) -> None:
        self._open_plots()

    @work(thread=True, exclusive=True, group="plots", exit_on_error=False)
    def _open_plots(self) -> None:
        from memcli.core.curves import status_counts
        from memcli.tui.plots import PlotScreen

        ns = self.chat.namespace
        retention = self._retention(ns)
        why = "" if retention is not None else \
            f"{ns} keeps no retention: only memorybank has R = exp(-Δt/S) (switch to it with Ctrl+S)."
        curves, threshold = retention if retention is not None else (None, None)
        rows = status_counts(self.chat.engine.store, ns)
        self.call_from_thread(self.push_screen, PlotScreen(ns, curves, threshold, rows, why))

    def action_timetravel(self) -> None:
        if self._refuse_attached("Time travel"):
            return
        self.push_screen(TimeTravelScreen(self.chat.engine.store, self.chat.namespace,
                                          self.chat.engine.clock.now()))

    # -- watching a replay -----------------------------------------------------------------

    def action_pause(self) -> None:
        if self._paused.is_set():
            self._paused.clear()
        else:
            self._paused.set()
        self._status()

    def action_speed(self, factor: float) -> None:
        self._speed = max(0.125, min(16.0, self._speed * factor))
        self._status()

    @work(thread=True, exclusive=True, group="replay", exit_on_error=False)
    def _play(self) -> None:
        from memcli.replay.runner import Check, play_step

        spec, clock = self.replay
        for i, step in enumerate(spec.parsed, 1):
            while self._paused.is_set():
                time.sleep(0.05)
            outcome = play_step(self.chat, clock, step, i, self.settings)
            if isinstance(outcome, Check):
                self.call_from_thread(self.notify, f"step {i} {outcome.kind}: {outcome.detail}",
                                      title="expectation met" if outcome.passed else "expectation FAILED",
                                      severity="information" if outcome.passed else "error", timeout=6, markup=False)
            self.call_from_thread(self._status)
            time.sleep(0.8 / self._speed)
        self.call_from_thread(self.notify, f"Replay of {spec.title!r} finished.", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where a failed worker becomes a notification (as harlequin does)."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self._busy = False
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.group} failed",
                        severity="error", timeout=10, markup=False)


def last_change(store: Any, namespace: str, memory_id: str) -> Event | None:
    """The newest event that changed a memory's text (its adding, or an update that was not only bookkeeping)."""
    events = store.events(kinds=[Kind.MEMORY_ADDED.value, Kind.MEMORY_UPDATED.value], namespace=namespace,
                          memory_id=memory_id, newest=50)
    return next((e for e in reversed(events) if e.payload.get("text") != e.payload.get("previous_text")), None)


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
                  cassette: Path | None = None, cassette_mode: str = "auto", replay: Path | None = None,
                  open_chat: Callable[..., Chat] | None = None) -> None:
    """Open the session (errors are one line), then run the app until the user quits."""
    import tempfile

    from memcli.workbench import close_chat
    from memcli.workbench import open_chat as default_open

    opener = open_chat or default_open
    if replay is None and open_chat is None:
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
    replay_state = None
    tmp = None
    if replay is not None:
        from memcli.clock import SimulatedClock
        from memcli.replay.format import load_session

        spec = load_session(replay)
        clock = SimulatedClock(spec.clock.start)
        tmp = tempfile.TemporaryDirectory(prefix="memcli-watch-")
        settings = settings.model_copy(update={"data_dir": Path(tmp.name)})
        cassette = replay.parent / spec.cassette if spec.cassette else cassette
        chat = opener(settings, strategy=strategy or spec.strategy, params=params or spec.params, clock=clock,
                         cassette=cassette, cassette_mode="replay" if cassette and cassette.exists() else cassette_mode)
        replay_state = (spec, clock)
    else:
        chat = opener(settings, strategy=strategy, params=params, cassette=cassette, cassette_mode=cassette_mode)
        if strategy is None:
            resume_last_strategy(chat)
    try:
        MemcliApp(chat, settings, replay=replay_state).run()
    finally:
        close_chat(chat)
        if tmp is not None:
            tmp.cleanup()
