"""The right-hand views: live feed, memories, retrieval, context."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

from memcli.core.events import Event
from memcli.core.projection import Memory
from memcli.tui.glyphs import STYLE, clip, describe
from memcli.tui.glyphs import changes as changes_line


class OpenMemory(Message):
    """Ask the app to open a memory's detail screen (of `namespace`; None: the current strategy's)."""

    def __init__(self, memory_id: str, namespace: str | None = None) -> None:
        super().__init__()
        self.memory_id = memory_id
        self.namespace = namespace


def fit_column(table: DataTable, key: str, minimum: int = 12) -> None:
    """Give column `key` the width the columns before it leave in the pane, so that its cells are cut at a
    word (WordClip) rather than by the pane's edge in the middle of one; the columns after it scroll."""
    keys = list(table.columns)
    column = table.columns.get(ColumnKey(key))
    if column is None:
        return
    before = sum(table.columns[k].get_render_width(table) for k in keys[:keys.index(column.key)])
    width = max(minimum, table.scrollable_content_region.width - before - 2 * table.cell_padding)
    if width != column.width:
        column.width = width
        table._clear_caches()
        table._require_update_dimensions = True
        table.refresh()


class WordClip:
    """A one-line cell cut at a word boundary (with '…') to the width its column gets."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(clip(self.text, options.max_width), no_wrap=True, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(len(self.text), 8), len(self.text))

    def __str__(self) -> str:
        return self.text


class Feed(DataTable):
    """Every memory event as it happens. DataTable renders only the visible rows (line API),
    so a feed of tens of thousands of events stays fast.

    It follows new rows while the reader is at the bottom; scrolled up, it stays put and
    counts what arrived below (`unseen`, shown by FeedPane)."""

    BINDINGS = [Binding("end", "scroll_bottom", "newest", show=False, id="feed.newest"),
                Binding("home", "scroll_top", "oldest", show=False, id="feed.oldest")]

    unseen: reactive[int] = reactive(0)

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_columns("#", "", "op", "ns", "mem")
        self.add_column("detail", key="detail", width=40)  # fitted to the pane (fit_column): cut at a word

    def on_resize(self) -> None:
        self.call_after_refresh(fit_column, self, "detail")

    def _at_bottom(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def add_event(self, event: Event) -> None:
        if event.kind not in STYLE:
            return
        glyph, style = STYLE[event.kind]
        follow = self._at_bottom() and not self.unseen
        self.add_row(str(event.seq), Text(glyph, style=style), Text(event.kind.value.split(".")[-1], style=style),
                     event.namespace or "", event.memory_id or "", WordClip(describe(event)), key=f"{event.seq}")
        self.call_after_refresh(fit_column, self, "detail")  # a wider ns or op column leaves the detail less room
        if follow:  # the table's height is known only after the next refresh
            self.call_after_refresh(self._follow)
        else:
            self.unseen += 1

    def _follow(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False, scroll=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.unseen and self._at_bottom():
            self.unseen = 0

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        row = self.get_row(message.row_key)
        if row[4]:
            self.post_message(OpenMemory(str(row[4]), str(row[3]) or None))


class FeedPane(Vertical):
    """The feed with a line under it saying how many new events arrived while scrolled up."""

    def compose(self) -> ComposeResult:
        yield Feed(id="feed-table")
        yield Static("", id="feed-unseen")

    def on_mount(self) -> None:
        self.watch(self.query_one(Feed), "unseen", self._unseen)

    def _unseen(self, count: int) -> None:
        marker = self.query_one("#feed-unseen", Static)
        marker.update(f"↓ {count} new (End to follow)" if count else "")
        marker.display = bool(count)


STATUS_WORD = {"deleted": "forgotten"}  # what the person did (the log's word is memory.deleted)


def retention_bar(m: Memory, now: datetime, width: int = 8) -> Text:
    from memcli.strategy.forgetting import retention  # not on the path to the first frame

    r = retention(m, now)
    filled = round(r * width)
    color = "green" if r > 0.6 else "yellow" if r > 0.3 else "red"
    return Text("█" * filled + "░" * (width - filled), style=color)


class MemoriesView(Vertical):
    """A filterable, sortable table of the current strategy's memories."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter memories (text, kind or status)…", id="memory-filter",
                    select_on_focus=False)  # a key typed on the table must not be selected and replaced
        yield DataTable(id="memory-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # id, status and the text fitted to the pane (cut at a word); the other columns scroll into view
        for key, label in (("id", "id"), ("status", "status")):
            table.add_column(label, key=key)
        table.add_column("text", key="text", width=40)
        for key, label in (("kind", "kind"), ("R", "retention"), ("last", "last use"), ("src", "src")):
            table.add_column(label, key=key)
        self._memories: list[Memory] = []
        self._now = datetime.now()
        self._sort: tuple[str, bool] = ("id", False)

    def on_resize(self) -> None:
        self.call_after_refresh(fit_column, self.query_one(DataTable), "text")

    def show(self, memories: list[Memory], now: datetime) -> None:
        self._memories, self._now = memories, now
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        needle = self.query_one(Input).value.strip().lower()
        shown = [m for m in self._memories if not needle or needle in m.text.lower() or needle in m.kind
                 or needle in STATUS_WORD.get(m.status, m.status)]
        key, reverse = self._sort
        from memcli.strategy.forgetting import retention

        order = {"id": lambda m: m.created_seq, "status": lambda m: m.status, "kind": lambda m: m.kind,
                 "R": lambda m: retention(m, self._now), "last": lambda m: m.last_access,
                 "src": lambda m: len(m.sources), "text": lambda m: m.text.lower()}[key]
        table.clear()
        for m in sorted(shown, key=order, reverse=reverse):
            table.add_row(Text(m.id + (" ★" if m.pinned else "")), STATUS_WORD.get(m.status, m.status),
                          WordClip(m.text), m.kind, retention_bar(m, self._now), m.last_access.strftime("%m-%d %H:%M"),
                          str(len(m.sources)), key=m.id)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill()

    def on_key(self, event: events.Key) -> None:
        """Typing on the table goes to the filter."""
        box = self.query_one(Input)
        if event.is_printable and event.character and not box.has_focus:
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        self._sort = (key, not self._sort[1] if self._sort[0] == key else False)
        self._fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.post_message(OpenMemory(str(event.row_key.value)))


def retrieval_table(p: dict, title: str, parts: bool = True) -> Table:
    """Hits, the cutoff line and the near misses of one retrieval (a memory.retrieved payload).

    The score column is the value the cutoff applies to: the fused score, or the part named by
    `cutoff_on` (memorybank cuts on the cosine, not on the hybrid RRF score); the other values
    are in the parts column."""
    on = p.get("cutoff_on")
    table = Table(title=Text(title), expand=True, title_justify="left")
    for col in (*(("#",) if parts else ()), "memory", on or "score", *(("parts",) if parts else ()), "text"):
        table.add_column(col, overflow="fold")

    def row(i: str, h: dict, style: str = "") -> tuple:
        cut = h.get("parts", {}).get(on, 0.0) if on else h["score"]
        rest = {**({"score": h["score"]} if on else {}), **{k: v for k, v in h.get("parts", {}).items() if k != on}}
        shown = Text("  ".join(f"{k} {v:.3f}" for k, v in rest.items()), style=style)
        return (*((i,) if parts else ()), Text(h["id"], style=style), Text(f"{cut:.4f}", style=style),
                *((shown,) if parts else ()), Text(h["text"], style=style))

    for i, h in enumerate(p.get("hits", []), 1):
        table.add_row(*row(str(i), h))
    cutoff = p.get("cutoff")
    line = Text((f"── cutoff {cutoff:.4f} ──" if parts else f"cut {cutoff:.3g}") if isinstance(cutoff, float)
                else "── cutoff ──" if parts else "cut", style="bold")
    table.add_row(*(("", "", line, "") if parts else ("", line)), Text(p.get("note", ""), style="italic"))
    for h in p.get("near_misses", []):
        table.add_row(*row("", h, "dim"))
    return table


class RetrievalView(VerticalScroll):
    """Why this memory and not that one: the last turn's hits, their score parts, the cutoff, near misses."""

    def compose(self) -> ComposeResult:
        yield Static("No retrieval yet: send a message.", id="retrieval-body")
        state = Static("", id="retrieval-state")
        state.display = False  # only a strategy with state (rmm's reranker) shows it
        yield state

    def show_state(self, states: list[Memory], changes: dict[str, Event | None]) -> None:
        """The strategy's own state that shapes retrieval (rmm's reranker weights), and its last change."""
        body = self.query_one("#retrieval-state", Static)
        body.display = bool(states)
        out = Text()
        for m in states:
            out.append(f"\nstate {m.id}: ", style="bold")
            out.append(m.text + "\n")
            event = changes.get(m.id)
            if event is not None:
                delta = changes_line(event.payload)
                out.append(f"  last change (event #{event.seq}): {event.payload.get('reason', '')}"
                           + (f"; Δ {delta}" if delta else "") + "\n", style="italic")
        body.update(out)

    def show(self, event: Event) -> None:
        p = event.payload
        self.query_one("#retrieval-body", Static).update(retrieval_table(p, f"retrieval for: {p.get('query', '')}"))


class ContextView(VerticalScroll):
    """The exact prompt sent to the model, with tokens per part against the window."""

    def compose(self) -> ComposeResult:
        yield Static("No context yet: send a message.", id="context-body")

    def show(self, event: Event, n_ctx: int) -> None:
        p = event.payload
        tokens = p.get("tokens", {})
        total = sum(tokens.values())
        out = Text()
        out.append(f"{total} of {n_ctx} tokens (budget {p.get('budget')})\n", style="bold")
        colors = {"system": "blue", "memories": "magenta", "history": "cyan", "user": "green"}
        width = 50
        for part, n in tokens.items():
            bar = "█" * max(1 if n else 0, round(width * n / max(n_ctx, 1)))
            out.append(f"{part:>9} {n:>6} ", style="bold")
            out.append(bar + "\n", style=colors.get(part, "white"))
        for cut in p.get("cut", []):
            out.append(f"cut ({cut['part']}): {clip(cut['text'], 80)}\n", style="red")
        out.append("\n")
        for m in p.get("messages", []):
            out.append(f"── {m['role']} ──\n", style="bold " + ("green" if m["role"] == "user" else "cyan"))
            out.append(m["content"] + "\n")
        self.query_one("#context-body", Static).update(out)
