"""Time travel: a namespace's memories as of an earlier point, and what changed since.

The screen gets its data from a worker (memcli.tui.loaders.time_travel); stepping folds those
events in its own worker. Clock moves logged by replays (clock.advanced) are shown under the
title, so a decay right after a jump of the clock explains itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from memcli.tui.glyphs import plural
from memcli.tui.loaders import TimeTravel


class TimeTravelScreen(ModalScreen[None]):
    """The memories as of an earlier point, and what changed since.

    ← → step through this namespace's memory events (from anywhere but the input); the
    input takes an event number, "turn N", an ISO date or "2 days ago". Points are keyed
    on the turn (core/asof.py), so a backfilled namespace time-travels like a live one.
    """

    BINDINGS = [Binding("escape", "dismiss", "close", id="timetravel.close"),
                Binding("left", "step(-1)", "earlier", id="timetravel.earlier", priority=True),
                Binding("right", "step(1)", "later", id="timetravel.later", priority=True)]

    class Rows(Message):
        def __init__(self, seq: int, rows: list) -> None:
            super().__init__()
            self.seq, self.rows = seq, rows

    def __init__(self, data: TimeTravel, namespace: str, now: datetime, resolve: Callable[[str], Any]) -> None:
        """`data`: loaded by a worker (memcli.tui.loaders.time_travel); `resolve(text)`: an as-of point for
        what is typed (run in this screen's worker; it reads the messages)."""
        super().__init__()
        self.namespace, self.now, self.resolve = namespace, now, resolve
        self.events: list = data.events
        self.message_seqs: list[int] = data.message_seqs
        self.now_memories = data.now_memories
        self.clock_jumps = data.clock_jumps
        self.index = max(0, len(self.events) - 2)
        self.note = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("", id="tt-title")
            yield Input(placeholder="event number, turn 12, 2026-01-03 or 2 days ago; Enter", id="tt-seq",
                        select_on_focus=False)  # a key typed on the table must not be selected and replaced
            yield DataTable(id="tt-table", cursor_type="row")
            yield Label("← → step through memory events · Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("", "id", "then", "now")
        self.query_one(DataTable).focus()
        self._refresh()

    def on_key(self, event: events.Key) -> None:
        """Typing anywhere in the dialog goes to the input."""
        box = self.query_one("#tt-seq", Input)
        if event.is_printable and event.character and not box.has_focus:
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # in the input, ← → move the cursor
        return not (action == "step" and isinstance(self.focused, Input))

    def action_step(self, delta: int) -> None:
        if self.events:
            self.index = max(0, min(len(self.events) - 1, self.index + delta))
            self.note = ""
            self._refresh()

    @work(thread=True, exclusive=True, group="timetravel", exit_on_error=False)
    def _refresh(self) -> None:
        self._load()

    @on(Input.Submitted, "#tt-seq")
    def _jump(self, event: Input.Submitted) -> None:
        event.stop()
        self._resolve(event.value)

    @work(thread=True, exclusive=True, group="timetravel", exit_on_error=False)
    def _resolve(self, text: str) -> None:
        from memcli.core.asof import AsOfError

        try:
            point = self.resolve(text)
        except AsOfError as exc:
            self.notify(str(exc), severity="warning", markup=False)  # notify posts a message: any thread
            return
        earlier = [i for i, e in enumerate(self.events) if point.includes(e, self.message_seqs)]
        if not earlier:
            self.notify(f"{self.namespace} had no memory yet at {point.label}", severity="warning")
            return
        self.index = earlier[-1]
        self.note = f"{point.label} → after #{self.events[self.index].seq}, its last memory event"
        self._load()

    def _load(self) -> None:
        """Runs in a worker: fold this namespace's events up to the chosen one."""
        from memcli.core.projection import fold

        if not self.events:
            self.post_message(self.Rows(0, []))
            return
        seq = self.events[self.index].seq
        then = {k[1]: m for k, m in fold(e for e in self.events if e.seq <= seq).memories.items()}
        now = self.now_memories
        rows = []
        for mid in sorted(set(then) | set(now), key=lambda i: (len(i), i)):
            a, b = then.get(mid), now.get(mid)
            show = lambda m: Text(f"[{m.status}] {m.text}") if m else Text("—")  # noqa: E731
            mark = ("+", "green") if a is None else ("~", "yellow") if b is None or (a.text, a.status) != (b.text, b.status) \
                else (" ", "")
            rows.append((Text(mark[0], style=mark[1]), mid, show(a), show(b)))
        self.post_message(self.Rows(seq, rows))

    def _jumps_before(self, seq: int) -> str:
        """The clock moves (replays' advance/at steps) between the previous memory event and this one:
        the reason a decay happened here."""
        earlier = self.events[self.index - 1].seq if self.index > 0 else 0
        jumps = [j for j in self.clock_jumps if earlier < j.seq < seq]
        return "; ".join(f"clock moved {j.payload.get('from', '?')[:16]} → {j.payload.get('to', '?')[:16]}"
                         for j in jumps[-2:])

    @on(Rows)
    def _show(self, message: Rows) -> None:
        seq, rows = message.seq, message.rows
        changed = sum(1 for r in rows if str(r[0]) != " ")
        title = (f"{self.namespace} as of event #{seq} ({self.index + 1} of {len(self.events)}) · "
                 f"{plural(changed, 'memory', 'memories')} changed or added since" if seq else f"{self.namespace}: no memory events yet")
        jumps = self._jumps_before(seq) if seq else ""
        notes = "\n".join(n for n in (jumps, self.note) if n)
        self.query_one("#tt-title", Label).update(Text(title + (f"\n{notes}" if notes else "")))
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(*r)
