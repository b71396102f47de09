"""The compare view: two strategies on the same conversation, side by side.

Their memories aligned by source turn (what one keeps and the other dropped, merged or
archived) and, for any past question, what each retrieved. The alignment is the core's
(memcli.core.compare), the same as `memcli memories diff`.
"""

from __future__ import annotations

from typing import Any, Callable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Select, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from memcli.tui.panels import STATUS_WORD, retrieval_table

STATUS_STYLE = {"active": "green", "archived": "yellow", "deleted": "red", "quarantined": "bold red"}
VERDICT_STYLE = {"both": "green", "neither": "red", "only A": "yellow", "only B": "yellow"}


def _side(memories: list[dict[str, Any]], held: bool) -> Text:
    if not memories:
        return Text("— nothing kept from this turn" if held else "— no retrieval", style="dim")
    out = Text()
    for i, m in enumerate(memories):
        out.append(("\n" if i else "") + f"{m['id']} ")
        out.append(STATUS_WORD.get(m["status"], m["status"]), style=STATUS_STYLE.get(m["status"], ""))
        out.append(f" {m['text']}")
    return out


def diff_table(rows: list[dict[str, Any]], a: str, b: str) -> Table:
    """One row per source turn: the message, which side keeps it, and each side's memories from it."""
    table = Table(expand=True, show_lines=True, pad_edge=False)
    for col in ("turn", a, b):
        table.add_column(col, ratio=1, overflow="fold")
    for r in rows:
        keeps = {"only A": f"only {a}", "only B": f"only {b}"}.get(r["verdict"], r["verdict"])
        turn = Text(f"#{r['turn']} ", style="bold")
        turn.append(r["message"], style="italic")
        turn.append(f"\n→ {keeps}", style=VERDICT_STYLE[r["verdict"]])
        table.add_row(turn, _side(r[a], True), _side(r[b], True))
    return table


def summary(rows: list[dict[str, Any]], a: str, b: str) -> str:
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("both", "only A", "only B", "neither")}
    return (f"{len(rows)} turns made memories · both keep {counts['both']} · only {a} {counts['only A']} · "
            f"only {b} {counts['only B']} · neither (archived, merged or forgotten) {counts['neither']}")


class CompareScreen(ModalScreen[None]):
    """The current strategy (A) against another one (B, chosen at the top)."""

    BINDINGS = [Binding("escape", "dismiss", "close", id="compare.close"),
                Binding("m", "tab('cmp-memories')", "memories", id="compare.memories"),
                Binding("r", "tab('cmp-retrievals')", "retrievals", id="compare.retrievals"),
                Binding("b", "pick", "other strategy", id="compare.pick")]

    class Loaded(Message):
        def __init__(self, a: str, b: str, rows: list[dict[str, Any]], rets: list[dict[str, Any]]) -> None:
            super().__init__()
            self.a, self.b, self.rows, self.rets = a, b, rows, rets

    def __init__(self, load: Callable[[str, str], tuple[list, list]], a: str, others: list[str],
                 b: str | None = None) -> None:
        """`load(a, b)`: the two namespaces' rows by turn and retrievals per question (memcli.core.compare),
        given by the app and run in this screen's worker, as the other strategy is changed."""
        super().__init__()
        self.load, self.a, self.others = load, a, others
        self.b = b if b in others else others[0]
        self.rets: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with Horizontal(id="cmp-head"):
                yield Label(f"Compare {self.a} with ", id="cmp-a")
                yield Select([(n, n) for n in self.others], value=self.b, allow_blank=False, type_to_search=False,
                             compact=True, id="cmp-b")
            yield Label("", id="cmp-summary")
            with TabbedContent(id="cmp-tabs"):
                with TabPane("Memories by turn", id="cmp-memories"):
                    with VerticalScroll(id="cmp-mem-scroll"):
                        yield Static("loading…", id="cmp-mem-body")
                with TabPane("Retrievals per question", id="cmp-retrievals"):
                    yield OptionList(id="cmp-questions")
                    with Horizontal(id="cmp-ret"):
                        with VerticalScroll(id="cmp-ret-a-scroll"):
                            yield Static("", id="cmp-ret-a")
                        with VerticalScroll(id="cmp-ret-b-scroll"):
                            yield Static("", id="cmp-ret-b")
            yield Label("m memories · r retrievals · b other strategy · Tab, ↑ ↓ · Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#cmp-mem-scroll").focus()
        self._load()

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
        self.query_one("#cmp-questions" if pane == "cmp-retrievals" else "#cmp-mem-scroll").focus()

    def action_pick(self) -> None:
        self.query_one(Select).focus()
        self.query_one(Select).action_show_overlay()

    @on(Select.Changed, "#cmp-b")
    def _other(self, event: Select.Changed) -> None:
        if event.value != self.b and isinstance(event.value, str):
            self.b = event.value
            self._load()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _load(self) -> None:
        a, b = self.a, self.b
        rows, rets = self.load(a, b)
        self.post_message(self.Loaded(a, b, rows, rets))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        a, b, rows, rets = message.a, message.b, message.rows, message.rets
        self.query_one("#cmp-summary", Label).update(Text(summary(rows, a, b)))
        self.query_one("#cmp-mem-body", Static).update(diff_table(rows, a, b) if rows else
                                                       Text(f"neither {a} nor {b} has memories yet", style="dim"))
        self.rets = rets
        questions = self.query_one("#cmp-questions", OptionList)
        questions.clear_options()
        questions.add_options([Option(Text(f"#{r['turn']} {r['question']}"), id=str(i)) for i, r in enumerate(rets)])
        if rets:
            questions.highlighted = len(rets) - 1

    @on(OptionList.OptionHighlighted, "#cmp-questions")
    def _question(self, event: OptionList.OptionHighlighted) -> None:
        r = self.rets[int(str(event.option.id))]
        for side, box in ((self.a, "#cmp-ret-a"), (self.b, "#cmp-ret-b")):
            p = r[side]
            self.query_one(box, Static).update(
                retrieval_table(p, side, parts=False) if p is not None else
                Text(f"{side}: no retrieval logged for this question (it was switched to later and not backfilled)",
                     style="dim"))
