"""The Textual workbench: chat on the left, the memory at work on the right.

Data flows one way. The app subscribes to the engine (`Engine.subscribe`): every committed
append, whoever wrote it (a turn, the memory worker, an edit, a replay step, `memcli mcp`'s
agent when attached), is posted to the app as a `Committed` message and handled with `@on`.
Everything that touches the engine, the model or the store runs in thread workers
(`@work(thread=True)`, reads in memcli.tui.loaders) which post messages (memcli.tui.messages)
and never call UI methods; the UI thread only draws. The chat is opened
in a worker (`opener`, from memcli.tui.run) while the first screen is already up and takes
keys: a message sent before the chat is open waits and is sent when it is; then the embedder and
the model load in the background.

Over ~300 lines: Textual finds `@on` handlers only on the App class itself, so the handlers of
the engine's and the workers' messages stay here (the dialogs' workers are in dialogs.py).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from memcli.core.events import Kind
from memcli.errors import MemcliError
from memcli.tui import loaders
from memcli.tui.chat import ChatLog, PromptInput
from memcli.tui.glyphs import plural
from memcli.tui.messages import (
    ChatOpened, Committed, HistoryLoaded, MemoriesLoaded, OpenScreen, ReplyEnded, ReplyProgress, Status, TurnDone,
)
from memcli.tui.panels import ContextView, Feed, FeedPane, MemoriesView, OpenMemory, RetrievalView
from memcli.tui.dialogs import DialogWorkers
from memcli.tui.styles import CSS

if TYPE_CHECKING:
    from memcli.chat import Chat
    from memcli.settings import Settings


class WorkbenchScreen(Screen):
    """The app's own screen: the prompt has focus from the first frame, so keys typed at launch go
    to it and not to the chat log (the first focusable widget). Dialogs keep Textual's default."""

    AUTO_FOCUS = "#prompt"


class MemcliApp(DialogWorkers, App[None]):
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

    def __init__(self, chat: Chat | None, settings: Settings, *, replay: Any = None,
                 warm_up: bool = True, attached: bool = False, opener: Callable[[], Chat] | None = None) -> None:
        """`chat`: an open chat, or None with `opener`, which a worker calls to open it (any error
        it raises ends the app: the caller reports it)."""
        super().__init__()
        self.chat: Chat = chat  # type: ignore[assignment]  # None only until ChatOpened
        self._opener = opener
        self._waiting: str | None = None  # a message sent before the chat was open: sent once it is
        self.attached = attached  # the data dir is served by `memcli mcp`: watch and edit through it
        self.settings = settings
        self.replay = replay  # (SessionFile, SimulatedClock) or None
        self.warm_up = warm_up
        self._cancel: threading.Event | None = None
        self._busy = False  # a turn of ours is running (set and cleared on the UI thread)
        self._paused = threading.Event()
        self._speed = 1.0
        self._tps = 0.0
        self._memory_count = 0
        self._loading = "loading…" if warm_up else ""
        self._unsubscribe: Any = None

    # -- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return WorkbenchScreen(id="_default")

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
        self.query_one(PromptInput).focus()
        if self.replay is not None:  # from the first frame: nothing typed may be queued into a replay
            self.query_one(PromptInput).disabled = True
        if self.chat is None:
            self.sub_title = str(self.settings.data_dir)
            self._status()
            self._open_chat()
        else:
            self._chat_ready()

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def _open_chat(self) -> None:
        """Open the chat (DuckDB, the engine, the strategies) off the UI thread; a failure ends the app
        and the opener's caller reports it (a user's mistake in one line, as before the app started)."""
        try:
            chat = self._opener()  # type: ignore[misc]
        except BaseException:
            self.call_from_thread(self.exit, return_code=1)
            return
        self.post_message(ChatOpened(chat))

    @on(ChatOpened)
    def _chat_opened(self, message: ChatOpened) -> None:
        self.chat = message.chat
        self._chat_ready()  # a message typed meanwhile is sent once the history is shown (_show_history)

    def _chat_ready(self) -> None:
        # the one notification path: the engine calls this in the writing thread; post_message is thread-safe
        self._unsubscribe = self.chat.engine.subscribe(lambda events: self.post_message(Committed(events)))
        self.sub_title = f"{self.chat.namespace} · {self.settings.data_dir}"
        self._status()
        self.refresh_memories()
        self._load_history()
        if self.warm_up:  # after the first screen is up: imports hold the GIL and would delay it
            self.set_timer(0.6, self._warm_up)
        if self.replay is not None:
            self._play()
        if self.attached:
            prompt = self.query_one(PromptInput)
            prompt.placeholder = "an agent holds this conversation (memcli mcp): watch and edit its memories"
            prompt.disabled = True

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _status(self) -> None:
        if self.chat is None:
            waiting = " · your message is sent once it is open" if self._waiting is not None else ""
            self.query_one("#status", Static).update(f"opening {self.settings.data_dir}…{waiting}")
            return
        model = getattr(self.chat.model, "model_id", "no model")
        source = f"attached to memcli mcp (pid {self.chat.info.pid})" if self.attached else f"model {model}"
        parts = [source, f"strategy {self.chat.namespace}", plural(self._memory_count, "memory", "memories")]
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

    # -- engine events → UI --------------------------------------------------------------------

    @on(Committed)
    async def _committed(self, message: Committed) -> None:
        log = self.query_one(ChatLog)
        memories_changed = False
        for event in message.events:
            self.query_one(Feed).add_event(event)
            if event.kind is Kind.MESSAGE_USER:
                await log.add(event.payload.get("text", ""), "user")
            elif event.kind is Kind.MESSAGE_ASSISTANT and not self._busy:
                await log.add(event.payload.get("text", ""), "assistant")  # replays; a live reply streams itself
            elif event.kind is Kind.MEMORY_RETRIEVED:
                self.query_one(RetrievalView).show(event)
            elif event.kind is Kind.CONTEXT_BUILT:
                self.query_one(ContextView).show(event, self.settings.n_ctx)
            memories_changed |= bool(event.memory_id) or event.kind is Kind.STRATEGY_SWITCHED
        if memories_changed:
            self.refresh_memories()

    @on(OpenScreen)
    def _open_screen(self, message: OpenScreen) -> None:
        self.push_screen(message.screen, message.callback)

    @on(Status)
    def _status_changed(self, message: Status) -> None:
        if message.loading is not None:
            self._loading = message.loading
        self._status()

    # -- background work -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        """Load the embedder (ONNX Runtime, or torch for a model folder), load the model, bring the index up to the log."""
        started = time.perf_counter()
        self.chat.engine.embedder.load()  # type: ignore[attr-defined]
        self.chat.engine.reconcile()
        if self.chat.model is not None:
            self.post_message(Status("loading the model…"))
            self.chat.model.load()  # type: ignore[attr-defined]
        # in the status bar, not a toast: a toast would cover it
        self.post_message(Status(f"ready in {time.perf_counter() - started:.1f} s"))
        time.sleep(5)
        self.post_message(Status(""))

    @work(thread=True, exclusive=True, group="memories", exit_on_error=False)
    def refresh_memories(self) -> None:
        engine = self.chat.engine
        self.post_message(MemoriesLoaded(loaders.memories_snapshot(engine.store, self.chat.namespace,
                                                                   engine.clock.now())))

    @on(MemoriesLoaded)
    def _show_memories(self, message: MemoriesLoaded) -> None:
        snap = message.snapshot
        self._memory_count = sum(m.status == "active" for m in snap.memories)
        self.query_one(MemoriesView).show(snap.memories, snap.now)
        self.query_one(RetrievalView).show_state(snap.states, snap.changes)
        self.sub_title = f"{self.chat.namespace} · {self.settings.data_dir}"
        self._status()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def _load_history(self) -> None:
        """Show the stored conversation (the last 50 messages) when the workbench opens."""
        # the store only: opening the vector index (importing lancedb) would hold up the first screen
        turns, events, upto = loaders.history(self.chat.engine.store)
        self.post_message(HistoryLoaded(turns, events))
        if self.attached:
            self.chat.follow(upto)  # type: ignore[attr-defined]

    @on(HistoryLoaded)
    async def _show_history(self, message: HistoryLoaded) -> None:
        from memcli.model.factory import EMPTY_CHAT_HINT, model_line

        log = self.query_one(ChatLog)
        hint = model_line(self.chat.model) + ("" if message.turns else "\n" + EMPTY_CHAT_HINT)
        if self.attached:
            pid = self.chat.info.pid  # type: ignore[attr-defined]
            hint = (f"attached to memcli mcp (pid {pid}): the agent's turns and memory work appear here live; "
                    "open a memory to edit, pin or forget it")
        await log.mount(Static(hint, id="first-run", classes="hint"))
        for t in message.turns:
            await log.add(t.text, t.role)
        feed = self.query_one(Feed)
        for e in message.events:
            feed.add_event(e)
        if self._waiting is not None:  # after the history: the stored conversation is read without it
            text, self._waiting = self._waiting, None
            self._send(text)

    # -- chatting --------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#prompt")  # only the chat prompt: a dialog's Input.Submitted bubbles here too
    def _submit(self, event: PromptInput.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self._busy or self._waiting is not None:
            self.notify("A reply is still coming: press Esc to stop it first." if self._busy else
                        "The data dir is still opening: your first message is sent once it is.", severity="warning")
            return
        prompt = self.query_one(PromptInput)
        prompt.remember(text)
        prompt.value = ""
        if self.chat is None:  # typed before the chat was open: kept, sent by _chat_opened
            self._waiting = text
            self._status()
            return
        self._send(text)

    def _send(self, text: str) -> None:
        self._busy = True
        self._cancel = threading.Event()
        self._turn(text, self._cancel, self.query_one(ChatLog))

    @work(thread=True, exclusive=True, group="turn", exit_on_error=False)
    def _turn(self, text: str, cancel: threading.Event, log: ChatLog) -> None:
        """`log`: the chat log the reply streams into (looked up on the UI thread, in _submit)."""
        pieces: list[str] = []

        def piece(p: str) -> None:
            pieces.append(p)
            log.post_message(ReplyProgress("".join(pieces)))

        try:
            result = self.chat.send(text, k=self.settings.top_k, max_tokens=self.settings.max_tokens,
                                    cancel=cancel, on_piece=piece)
        except BaseException as exc:
            log.post_message(ReplyEnded(None, failed=isinstance(exc, MemcliError)))
            # a user error restores the prompt; any other failure is notified by on_worker_state_changed
            self.post_message(TurnDone(text, None, error=str(exc) if isinstance(exc, MemcliError) else None))
            if isinstance(exc, MemcliError):
                return
            raise
        logged = result.reply.text if result.reply is not None else None
        log.post_message(ReplyEnded(logged))
        stats = result.generation.stats if result.generation is not None else None
        self.post_message(TurnDone(text, logged, tokens_per_s=stats.tokens_per_s if stats else 0.0,
                                   cancelled=stats is not None and stats.finish_reason == "cancelled"))

    @on(TurnDone)
    def _turn_done(self, message: TurnDone) -> None:
        self._busy = False
        if message.error is not None:
            self.query_one(PromptInput).value = message.text  # the prompt is restored, nothing typed is lost
            self.notify(message.error, title="The turn failed", severity="error", timeout=8, markup=False)
            return
        if message.tokens_per_s:
            self._tps = message.tokens_per_s
        if message.cancelled:
            self.notify("Reply stopped.", timeout=2)
        self._status()

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
        from memcli.tui.screens import HelpScreen

        self.push_screen(HelpScreen())

    @on(OpenMemory)
    def _open_memory(self, message: OpenMemory) -> None:
        self._load_memory(message.memory_id, message.namespace or self.chat.namespace)

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
                self.notify(f"step {i} {outcome.kind}: {outcome.detail}",
                            title="expectation met" if outcome.passed else "expectation FAILED",
                            severity="information" if outcome.passed else "error", timeout=6, markup=False)
            self.post_message(Status())
            time.sleep(0.8 / self._speed)
        self.notify(f"Replay of {spec.title!r} finished.", timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where a failed worker becomes a notification (as harlequin does)."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self._busy = False
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.group} failed",
                        severity="error", timeout=10, markup=False)
