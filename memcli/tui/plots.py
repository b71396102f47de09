"""Terminal plots in the workbench (textual-plotext): memorybank's retention curves and the memory
count per status after each turn. The data is the core's (memcli.core.curves), the drawing is
shared with `memcli memories plot` (memcli.plots)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from memcli.core.curves import Curve
from memcli.plots import draw_retention, draw_status


class RetentionPlot(PlotextPlot):
    """Retention R = exp(-Δt/S) of some memories over time, with the archive threshold."""

    def __init__(self, curves: list[Curve], threshold: float | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.curves, self.threshold = curves, threshold

    def on_mount(self) -> None:
        draw_retention(self.plt, self.curves, self.threshold)


class StatusPlot(PlotextPlot):
    """How many memories were active, archived, forgotten, quarantined after each turn."""

    def __init__(self, rows: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows = rows

    def on_mount(self) -> None:
        draw_status(self.plt, self.rows)


class PlotScreen(ModalScreen[None]):
    """The current strategy's history as plots: retention curves (memorybank) and memories per status."""

    BINDINGS = [Binding("escape", "dismiss", "close", id="plots.close"),
                Binding("r", "tab('plot-retention')", "retention", id="plots.retention"),
                Binding("s", "tab('plot-status')", "per status", id="plots.status")]

    def __init__(self, namespace: str, curves: list[Curve] | None, threshold: float | None,
                 rows: list[dict[str, Any]], why_not: str = "") -> None:
        super().__init__()
        self.namespace, self.curves, self.threshold, self.rows, self.why_not = namespace, curves, threshold, rows, why_not

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with TabbedContent(id="plot-tabs", initial="plot-retention" if self.curves else "plot-status"):
                with TabPane("Retention", id="plot-retention"):
                    if self.curves:
                        yield RetentionPlot(self.curves, self.threshold, id="retention-plot")
                    else:
                        yield Static(self.why_not or f"{self.namespace} has no memories yet", classes="hint")
                with TabPane("Memories per status", id="plot-status"):
                    yield StatusPlot(self.rows, id="status-plot")
            yield Label(f"{self.namespace} · r retention · s per status · Esc closes", classes="hint")

    def action_tab(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
