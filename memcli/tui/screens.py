"""Modal screens: memory detail and editor, strategy switcher, backfill progress, help (time travel:
timetravel.py). They show the plain data a worker loaded (memcli.tui.loaders) and never read the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button, Checkbox, Input, Label, Markdown, OptionList, ProgressBar, Static, TextArea,
)
from textual.widgets.option_list import Option

from memcli.core.projection import Memory


class EditScreen(ModalScreen[str | None]):
    """Edit a memory's text; returns the new text or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="edit.cancel")]

    def __init__(self, memory: Memory) -> None:
        super().__init__()
        self.memory = memory

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Edit {self.memory.id} (the old text stays in its history)")
            yield TextArea(self.memory.text, id="edit-text")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        self.dismiss(text if text and text != self.memory.text else None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


@dataclass
class MemoryAction:
    action: str  # "edit", "pin", "unpin", "forget", "restore"
    memory_id: str
    text: str | None = None
    namespace: str | None = None


class MemoryScreen(ModalScreen[MemoryAction | None]):
    """Everything about one memory: fields, versions with validity, source turns, every event."""

    BINDINGS = [Binding("escape", "dismiss(None)", "close", id="memory.close"),
                Binding("e", "edit", "edit", id="memory.edit"),
                Binding("p", "pin", "pin/unpin", id="memory.pin")]

    def __init__(self, memory: Memory, versions: list, sources: list, events: list,
                 retention: tuple[list, float] | None = None) -> None:
        super().__init__()
        self.memory, self.versions, self.sources, self.events = memory, versions, sources, events
        self.retention = retention  # memorybank: (curves of this memory and the top ones, archive threshold)

    def compose(self) -> ComposeResult:
        m = self.memory
        with Vertical(id="dialog"):
            yield Label(f"{m.id} · {m.status} · {m.kind} · strength {m.strength:g} · used {m.access_count}×"
                        + (" · pinned" if m.pinned else ""), id="memory-title")
            with VerticalScroll(id="memory-body"):
                yield Static(Text(m.text, style="bold"))
                if self.retention is not None:
                    from memcli.tui.plots import RetentionPlot

                    yield RetentionPlot(*self.retention, id="memory-retention")
                versions = Table("v", "valid from", "valid to", "text", title="versions", expand=True,
                                 title_justify="left")
                for v in self.versions:
                    versions.add_row(str(v.version), v.valid_from.strftime("%Y-%m-%d %H:%M"),
                                     v.valid_to.strftime("%Y-%m-%d %H:%M") if v.valid_to else "now", Text(v.text))
                yield Static(versions)
                sources = Table("#", "when", "turn", title="source turns", expand=True, title_justify="left")
                for e in self.sources:
                    sources.add_row(str(e.seq), e.ts.strftime("%Y-%m-%d %H:%M"), Text(e.payload.get("text", "")))
                yield Static(sources)
                history = Table("#", "event", "by", "detail", title="history", expand=True, title_justify="left")
                for e in self.events:
                    p = e.payload
                    history.add_row(str(e.seq), e.kind.value, e.actor,
                                    Text(str(p.get("text") or p.get("reason") or p.get("query") or "")))
                yield Static(history, id="memory-history")
            with Horizontal(classes="buttons"):
                yield Button("Edit", id="edit", variant="primary")
                yield Button("Unpin" if m.pinned else "Pin", id="pin")
                if m.status == "active":
                    yield Button("Forget", id="forget", variant="error")
                else:
                    yield Button("Restore", id="restore", variant="success")
                yield Button("Close", id="close")

    def action_edit(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.dismiss(MemoryAction("edit", self.memory.id, text, self.memory.namespace))

        self.app.push_screen(EditScreen(self.memory), done)

    def action_pin(self) -> None:
        self.dismiss(MemoryAction("unpin" if self.memory.pinned else "pin", self.memory.id,
                                  namespace=self.memory.namespace))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        match event.button.id:
            case "edit":
                self.action_edit()
            case "pin":
                self.action_pin()
            case "forget" | "restore":
                self.dismiss(MemoryAction(event.button.id, self.memory.id, namespace=self.memory.namespace))
            case _:
                self.dismiss(None)


@dataclass
class StrategyChoice:
    name: str
    params: dict[str, str]
    backfill: bool


def param_range(p: Any) -> str:
    """' (a, b, c)', ' (0 … 1)', ' (≥ 0)', ' (≤ 9)' or ''."""
    if p.choices:
        return f" ({', '.join(map(str, p.choices))})"
    if p.min is not None and p.max is not None:
        return f" ({p.min} … {p.max})"
    if p.min is not None:
        return f" (≥ {p.min})"
    return f" (≤ {p.max})" if p.max is not None else ""


class ReadableCheckbox(Checkbox):
    """A checkbox whose state reads without colour: ▐X▌ checked, ▐ ▌ not."""

    @property
    def _button(self) -> Any:
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button


class StrategyScreen(ModalScreen[StrategyChoice | None]):
    """Pick a strategy (description, paper), edit its parameters, optionally backfill it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", id="strategy.cancel")]

    def __init__(self, strategies: dict[str, type], current: str, problems: dict[str, str],
                 empty: set[str] | None = None) -> None:
        super().__init__()
        self.strategies, self.current, self.problems = strategies, current, problems
        self.empty = empty or set()  # namespaces without memories: backfilled by default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Switch strategy (current: {self.current}). Each keeps its own memories.")
            with Horizontal(id="strategy-body"):
                yield OptionList(*[Option(n, id=n) for n in self.strategies],
                                 *[Option(f"{n} (broken)", id=f"broken:{n}", disabled=True) for n in self.problems],
                                 id="strategy-list")
                with VerticalScroll(id="strategy-info"):
                    yield Markdown("", id="strategy-about")
                    yield Vertical(id="strategy-params")
                    yield ReadableCheckbox("Backfill: replay the stored conversation into it", id="backfill")
            with Horizontal(classes="buttons"):
                yield Button("Switch", variant="primary", id="switch")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        names = list(self.strategies)
        self.query_one(OptionList).highlighted = names.index(self.current) if self.current in names else 0

    @on(OptionList.OptionHighlighted)
    async def _show(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        cls = self.strategies.get(name)
        if cls is None:
            return
        self.query_one("#strategy-about", Markdown).update(f"### {name}\n\n{cls.description}\n\n*{cls.paper}*")
        box = self.query_one("#strategy-params", Vertical)
        await box.remove_children()
        for p in cls.params:
            await box.mount(Label(Text(f"{p.name}{param_range(p)}: {p.help}")), Input(str(p.default), id=f"param-{p.name}"))
        self.query_one(Checkbox).value = name in self.empty and name != self.current

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        """Enter in a parameter switches (and never reaches the chat)."""
        event.stop()
        self._switch()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a strategy in the list switches to it (with the parameters shown)."""
        event.stop()
        self._switch()

    @on(Button.Pressed, "#switch")
    def _switch(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is None:
            return
        name = str(option.id)
        cls = self.strategies[name]
        params = {p.name: self.query_one(f"#param-{p.name}", Input).value for p in cls.params
                  if self.query_one(f"#param-{p.name}", Input).value != str(p.default)}
        self.dismiss(StrategyChoice(name, params, self.query_one(Checkbox).value))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class BackfillScreen(ModalScreen[None]):
    """A progress bar while a backfill runs in a worker."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.strategy = name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Backfilling {self.strategy} from the stored conversation…")
            yield ProgressBar(id="backfill-progress", show_eta=False)

    class Progress(Message):
        """Posted by the backfill worker: `done` of `total` turns (None: finished, the dialog closes)."""

        def __init__(self, done: int | None, total: int = 0) -> None:
            super().__init__()
            self.done, self.total = done, total

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        if message.done is None:
            self.dismiss()
        else:
            self.query_one(ProgressBar).update(total=message.total, progress=message.done)


HELP = """\
# memcli workbench

Chat on the left; watch and steer memory on the right.

| key | what it does |
|---|---|
| Enter | send the message |
| Esc | stop the reply being generated |
| ↑ / ↓ in the prompt | earlier / later messages you sent |
| F1 | this help |
| F2 | live feed of memory operations (Enter on a row opens that memory) |
| F3 | memories table: type to filter, click a header to sort, Enter to open |
| F4 | retrieval of the last turn: hits, score parts, cutoff, near misses |
| F5 | the exact context sent to the model, tokens per part |
| Ctrl+S | switch strategy (parameters, backfill) |
| Ctrl+T | time travel: memories as of an earlier event |
| Ctrl+O | compare two strategies: memories by source turn, retrievals per question |
| Ctrl+G | plots: retention curves (memorybank), memories per status after each turn |
| F6 / F7 / F8 | watching a replay: pause, slower, faster |
| Ctrl+P | command palette (themes, all commands) |
| Ctrl+Q | quit |

In a memory: **e** edit, **p** pin or unpin, buttons to forget or restore. Every change is an
event in the log, so nothing is lost: `memcli log` shows them all.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1", "dismiss", "close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Markdown(HELP)
