"""Plots of a namespace's history (data from memcli.core.curves): drawn in the terminal with
plotext (the CLI, and the TUI through textual-plotext, share the drawing) or written as SVG.

The SVG is written by hand, as the eval chart is (memcli.eval.report), rather than pulling in
matplotlib for a few line charts.
"""

from __future__ import annotations

import html
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from memcli.core.curves import STATUSES, Curve
from memcli.eval.report import PALETTE

STATUS_COLOURS = {"active": "#59a14f", "archived": "#f28e2b", "deleted": "#e15759", "quarantined": "#b07aa1"}


class NotRetention(ValueError):
    """Retention curves asked of a namespace whose strategy has no retention."""


def memorybank_params(store: Any, namespace: str, registry: Any) -> dict[str, Any]:
    """The memorybank parameters a namespace ran with: those of the last switch to it, else the defaults.
    Raises NotRetention for a namespace of another strategy (it has no retention R = exp(-Δt/S))."""
    from memcli.core.events import Kind

    try:
        cls = registry.load(namespace)
    except Exception:  # noqa: BLE001 - an unknown or broken strategy: not memorybank either
        cls = None
    if cls is None or getattr(cls, "name", None) != "memorybank":
        raise NotRetention(f"{namespace} has no retention curves: only memorybank keeps a retention "
                           "R = exp(-Δt/S) (try -S memorybank)")
    params = {p.name: p.default for p in cls.params}
    for e in reversed(store.events(kinds=[Kind.STRATEGY_SWITCHED.value])):
        if e.payload.get("to") == namespace and isinstance(e.payload.get("params"), dict):
            params.update(e.payload["params"])
            break
    return params


def _days(t: datetime, start: datetime) -> float:
    return (t - start).total_seconds() / 86400.0


def curve_start(curves: list[Curve]) -> datetime:
    return min(c.points[0][0] for c in curves if c.points)


def _label(c: Curve, width: int = 28) -> str:
    """'m3 I collect stamps (archived)': cut at a word, without the speaker's 'User: ' prefix."""
    text = c.text.split(": ", 1)[1] if c.text.startswith(("User: ", "Assistant: ")) else c.text
    text = text if len(text) <= width else text[:width - 1].rsplit(" ", 1)[0] + "…"
    return f"{c.memory_id} {text}" + (f" ({c.ended})" if c.ended else "")


# -- terminal (plotext: the module itself, or a PlotextPlot widget's `plt`) ----------------------

def draw_retention(plt: Any, curves: list[Curve], threshold: float | None = None) -> None:
    plt.clear_data()
    if not curves:
        plt.title("no memories yet")
        return
    start = curve_start(curves)
    for c in curves:
        plt.plot([_days(t, start) for t, _ in c.points], [r for _, r in c.points], label=_label(c, 30),
                 marker="braille")
    if threshold is not None:
        plt.hline(threshold, "red")
    plt.ylim(0, 1.05)
    plt.yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    plt.title(f"retention R = exp(-Δt/S) · archived below {threshold:g}" if threshold is not None else "retention")
    plt.xlabel(f"days since {start:%Y-%m-%d %H:%M}")


def draw_status(plt: Any, rows: list[dict[str, Any]]) -> None:
    plt.clear_data()
    if not rows:
        plt.title("no turns yet")
        return
    turns = [r["turn"] for r in rows]
    for status in STATUSES:
        if any(r[status] for r in rows):
            plt.plot(turns, [r[status] for r in rows], label=status, marker="braille")
    plt.title("memories per status after each turn")
    plt.xlabel("turn")


def draw_recall(plt: Any, names: list[str], ks: list[int], recall: dict[str, list[float]]) -> None:
    """The eval chart in the terminal: recall@k per strategy, grouped by k."""
    plt.clear_data()
    plt.multiple_bar([f"@{k}" for k in ks], [recall[n] for n in names], labels=names)
    plt.ylim(0, 1)
    plt.title("LoCoMo evidence recall per strategy")


def terminal(draw: Any, *args: Any, width: int = 100, height: int = 24) -> str:
    """Draw with plotext's module and return the plot as text (coloured with ANSI codes)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("pro")
    draw(plt, *args)
    return plt.build()


# -- SVG ------------------------------------------------------------------------------------------

def _ticks(top: float) -> list[float]:
    """Round ticks from 0 to at least `top`: a step of 1, 2 or 5 × 10^k, about five of them."""
    raw = max(top, 1e-9) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _svg_lines(title: str, series: list[tuple[str, str, list[tuple[float, float]]]], x_label: str,
               y_max: float, path: Path, hline: tuple[float, str] | None = None) -> None:
    """Line charts: each series a (name, colour, points) polyline on shared axes from 0."""
    w, h, left, top = 640, 300, 56, 40
    x_ticks, y_ticks = _ticks(max((x for _, _, pts in series for x, _ in pts), default=1.0) or 1.0), _ticks(y_max)
    x_max, y_max = x_ticks[-1], y_ticks[-1]
    sx = lambda x: left + x / x_max * w  # noqa: E731
    sy = lambda y: top + h - y / y_max * h  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + w + 300}" height="{top + h + 50}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="20" font-size="14">{html.escape(title)}</text>']
    for y in y_ticks:
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    for x in x_ticks:
        parts.append(f'<text x="{sx(x):.1f}" y="{top + h + 16}" text-anchor="middle">{x:g}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{top + h + 36}" text-anchor="middle">{html.escape(x_label)}</text>')
    if hline is not None:
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{sy(hline[0]):.1f}" y2="{sy(hline[0]):.1f}" '
                     f'stroke="#e15759" stroke-dasharray="4 3"><title>{html.escape(hline[1])}</title></line>')
    for name, colour, pts in series:
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
                     f'<title>{html.escape(name)}</title></polyline>')
    for j, (name, colour, _) in enumerate(series):  # the legend, in the series' own colours
        parts.append(f'<rect x="{left + w + 20}" y="{top + 1 + j * 16}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + w + 36}" y="{top + 10 + j * 16}">{html.escape(name)}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))


def retention_svg(curves: list[Curve], path: Path, threshold: float | None = None) -> None:
    start = curve_start(curves)
    series = [(_label(c, 40), PALETTE[i % len(PALETTE)], [(_days(t, start), r) for t, r in c.points])
              for i, c in enumerate(curves)]
    _svg_lines("memorybank retention R = exp(-Δt/S) of the top memories", series,
               f"days since {start:%Y-%m-%d %H:%M}", 1.0, path,
               (threshold, f"archived below {threshold:g}") if threshold is not None else None)


def status_svg(rows: list[dict[str, Any]], path: Path, namespace: str) -> None:
    shown = [s for s in STATUSES if any(r[s] for r in rows)]
    def steps(status: str) -> list[tuple[float, float]]:  # a count holds from one turn to the next
        out: list[tuple[float, float]] = []
        for r in rows:
            if out:
                out.append((float(r["turn"]), out[-1][1]))
            out.append((float(r["turn"]), float(r[status])))
        return out

    series = [(s, STATUS_COLOURS[s], steps(s)) for s in shown]
    top = max(5, max((r[s] for r in rows for s in shown), default=1))  # whole numbers: ticks of at least 1
    _svg_lines(f"{namespace}: memories per status after each turn", series, "turn", float(top), path)
