"""The workers behind the workbench's dialogs (memory, strategy and backfill, compare, plots, time
travel): each loads what its screen shows off the UI thread (memcli.tui.loaders) and posts the
screen, built from that plain data, in an `OpenScreen` message; edits and switches go to the
chat, and the feed hears of them from the engine like of any other change.

A mixin of `MemcliApp` (Textual's `@on` handlers stay in the app class, where Textual finds them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from memcli.core.events import Kind
from memcli.errors import MemcliError
from memcli.tui import loaders
from memcli.tui.messages import OpenScreen

if TYPE_CHECKING:
    from textual.app import App

    from memcli.chat import Chat
    from memcli.settings import Settings
    from memcli.tui.screens import BackfillScreen, MemoryAction, StrategyChoice

    _Base = App[None]
else:
    _Base = object


class DialogWorkers(_Base):
    chat: Chat
    settings: Settings
    attached: bool

    if TYPE_CHECKING:
        def refresh_memories(self) -> None: ...  # the app's worker

    @work(thread=True, exclusive=True, group="memory", exit_on_error=False)
    def _load_memory(self, memory_id: str, ns: str) -> None:
        store = self.chat.engine.store
        detail = loaders.memory_detail(store, ns, memory_id)
        if detail is None:
            self.notify(f"{memory_id} is not in {ns}", severity="warning")  # notify posts a message: any thread
            return
        from memcli.tui.screens import MemoryScreen

        retention = loaders.retention(store, self.chat.registry, ns, self.chat.engine.clock.now(), memory_id)
        screen = MemoryScreen(detail.memory, detail.versions, detail.sources, detail.events, retention)
        self.post_message(OpenScreen(screen, self._memory_action))

    def _memory_action(self, action: MemoryAction | None) -> None:
        if action is not None:
            self._apply_memory_action(action)

    @work(thread=True, exclusive=False, group="edit", exit_on_error=False)
    def _apply_memory_action(self, action: MemoryAction) -> None:
        from memcli.core import operations as ops

        op = {"edit": lambda: ops.Edit(memory_id=action.memory_id, text=action.text or "", reason="edited by hand"),
              "pin": lambda: ops.Pin(memory_id=action.memory_id, reason="pinned by hand"),
              "unpin": lambda: ops.Pin(memory_id=action.memory_id, pinned=False, reason="unpinned by hand"),
              "forget": lambda: ops.Delete(memory_id=action.memory_id, reason="forgotten by hand"),
              "restore": lambda: ops.Restore(memory_id=action.memory_id, reason="restored by hand")}[action.action]()
        try:
            self.chat.edit(op, action.namespace)  # the feed hears of it from the engine, like any change
        except MemcliError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"{action.memory_id}: {action.action}", timeout=2)

    def _refuse_attached(self, what: str) -> bool:
        if self.attached:
            self.notify(f"{what} is not available while memcli mcp serves this data dir", severity="warning")
        return self.attached

    def _refuse_opening(self) -> bool:
        if self.chat is None:
            self.notify("The data dir is still opening: try again in a moment.", severity="warning")
        return self.chat is None

    def action_strategy(self) -> None:
        if not self._refuse_opening() and not self._refuse_attached("Switching strategy"):
            self._open_strategies()

    @work(thread=True, exclusive=True, group="strategies", exit_on_error=False)
    def _open_strategies(self) -> None:
        """Load the strategies (plugin imports) and which of them are still empty, off the UI thread."""
        from memcli.tui.screens import StrategyScreen

        strategies, empty, problems = loaders.strategies(self.chat.registry, self.chat.engine.store)
        self.post_message(OpenScreen(StrategyScreen(strategies, self.chat.namespace, problems, empty),
                                     self._strategy_chosen))

    def _strategy_chosen(self, choice: StrategyChoice | None) -> None:
        from memcli.tui.screens import BackfillScreen

        if choice is not None:
            screen = BackfillScreen(choice.name) if choice.backfill else None
            if screen is not None:
                self.push_screen(screen)
            self._switch(choice, screen)

    @work(thread=True, exclusive=True, group="switch", exit_on_error=False)
    def _switch(self, choice: StrategyChoice, screen: BackfillScreen | None) -> None:
        from memcli.tui.screens import BackfillScreen

        try:
            self.chat.switch(choice.name, choice.params)
            if screen is not None:
                if self.chat.engine.store.count_added(choice.name):
                    self.notify(f"{choice.name} already has memories: no backfill", severity="warning")
                else:
                    self.chat.backfill(k=self.settings.top_k,
                                       progress=lambda i, n: screen.post_message(BackfillScreen.Progress(i, n)))
        except MemcliError as exc:
            self.notify(str(exc), title="Switch failed", severity="error", timeout=8, markup=False)
        finally:
            if screen is not None:
                screen.post_message(BackfillScreen.Progress(None))
        self.refresh_memories()

    def action_compare(self) -> None:
        if not self._refuse_opening():
            self._open_compare()

    @work(thread=True, exclusive=True, group="compare-open", exit_on_error=False)
    def _open_compare(self) -> None:
        from memcli.tui.compare import CompareScreen

        store, ns = self.chat.engine.store, self.chat.namespace
        others = [n for n in store.namespaces() if n != ns]
        if not others:
            self.notify(f"Only {ns} has memories: switch to another strategy with backfill (Ctrl+S), then compare.",
                        severity="warning", timeout=6)
            return
        switches = store.events(kinds=[Kind.STRATEGY_SWITCHED.value], newest=1)
        last = switches[0].payload.get("from") if switches else None  # the strategy used before this one
        self.post_message(OpenScreen(CompareScreen(lambda a, b: loaders.comparison(store, a, b), ns, others, last)))

    def action_plots(self) -> None:
        if not self._refuse_opening():
            self._open_plots()

    @work(thread=True, exclusive=True, group="plots", exit_on_error=False)
    def _open_plots(self) -> None:
        from memcli.core.curves import status_counts
        from memcli.tui.plots import PlotScreen

        ns, engine = self.chat.namespace, self.chat.engine
        retention = loaders.retention(engine.store, self.chat.registry, ns, engine.clock.now())
        why = "" if retention is not None else \
            f"{ns} keeps no retention: only memorybank has R = exp(-Δt/S) (switch to it with Ctrl+S)."
        curves, threshold = retention if retention is not None else (None, None)
        rows = status_counts(engine.store, ns)
        self.post_message(OpenScreen(PlotScreen(ns, curves, threshold, rows, why)))

    def action_timetravel(self) -> None:
        if not self._refuse_opening() and not self._refuse_attached("Time travel"):
            self._open_timetravel()

    @work(thread=True, exclusive=True, group="timetravel-open", exit_on_error=False)
    def _open_timetravel(self) -> None:
        from memcli.core.asof import resolve
        from memcli.tui.timetravel import TimeTravelScreen

        store, ns, now = self.chat.engine.store, self.chat.namespace, self.chat.engine.clock.now()
        data = loaders.time_travel(store, ns)
        self.post_message(OpenScreen(TimeTravelScreen(data, ns, now, lambda text: resolve(store, text, now))))
