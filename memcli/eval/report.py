"""Eval reports: a Rich table with bars for the terminal, JSON, CSV and an SVG chart.

The SVG is written by hand (grouped bars, ~40 lines) rather than pulling in matplotlib
(tens of MB) for one chart.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from memcli.eval.locomo import CATEGORIES, StrategyResult

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]


def svg_legend(names: list[str], x: float, top: float) -> list[str]:
    """One coloured square and name per series, in the chart's palette order."""
    return [f'<rect x="{x}" y="{top + 1 + j * 16}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{top + 10 + j * 16}">{html.escape(name)}</text>' for j, name in enumerate(names)]


def _bar(value: float, width: int = 4) -> Text:
    filled = round(max(0.0, min(1.0, value)) * width)
    return Text("█" * filled + "░" * (width - filled) + f" {value:.3f}", style="cyan")


def _latencies(r: StrategyResult) -> tuple[float, float]:
    """p50 and p95 in ms; 0 when there was no question."""
    p50, p95 = r.latency_ms(50), r.latency_ms(95)
    return (0.0, 0.0) if p95 != p95 else (p50, p95)


def print_table(results: dict[str, StrategyResult], ks: list[int], console: Console | None = None) -> None:
    """Three narrow tables (they fit 80 columns): recall@k with bars, recall by category, latency."""
    console = console or Console()
    mid = ks[len(ks) // 2]
    qa = any(q.f1 is not None for r in results.values() for q in r.questions)
    overall = Table(title="LoCoMo evidence recall (categories 1-4 with evidence)")
    overall.add_column("strategy", style="bold", overflow="fold", min_width=12)
    for k in ks:
        overall.add_column(f"@{k}", no_wrap=True)
    overall.add_column(f"tokens@{mid}", justify="right")
    if qa:
        overall.add_column(f"QA F1@{mid}", justify="right")
    for name, r in results.items():
        overall.add_row(name, *[_bar(r.recall(k)) for k in ks], f"{r.tokens(mid):.0f}",
                        *([f"{r.f1():.3f}"] if qa else []))
    console.print(overall)
    by_category = Table(title=f"Recall@{mid} by category")
    by_category.add_column("strategy", style="bold", overflow="fold")
    for c in CATEGORIES.values():
        by_category.add_column(c, justify="right")
    by_category.add_column("ingest turns/s", justify="right")
    for name, r in results.items():
        by_category.add_row(name, *[f"{r.recall(mid, c):.3f}" for c in CATEGORIES],
                            str(r.summary(ks)["ingest_turns_per_s"]))
    console.print(by_category)
    slowest = max((_latencies(r)[1] for r in results.values()), default=0.0) or 1.0
    latency = Table(title="Retrieval latency per question, ms (p50 █, p95 ▒)", show_header=False, box=None)
    for name, r in results.items():
        p50, p95 = _latencies(r)
        a, b = round(p50 / slowest * 30), round(p95 / slowest * 30)
        latency.add_row(name, Text("█" * a + "▒" * max(0, b - a), style="magenta"), f"{p50:.1f} / {p95:.1f}")
    console.print(latency)


def write_json(results: dict[str, StrategyResult], ks: list[int], path: Path, details: bool = False) -> None:
    out = {"ks": ks, "strategies": [r.summary(ks) for r in results.values()]}
    if details:
        out["questions"] = {name: [q.__dict__ for q in r.questions] for name, r in results.items()}
    path.write_text(json.dumps(out, indent=2, default=str))


def write_csv(results: dict[str, StrategyResult], ks: list[int], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["strategy", "category", *[f"recall@{k}" for k in ks], *[f"tokens@{k}" for k in ks],
                    "latency_p50_ms", "latency_p95_ms", "ingest_turns_per_s", "memories", "questions", "qa_f1"])
        for name, r in results.items():
            s = r.summary(ks)
            for cat in [None, *sorted({q.category for q in r.questions})]:
                label = "all" if cat is None else CATEGORIES[cat]
                n = sum(1 for q in r.questions if cat in (None, q.category))
                w.writerow([name, label, *[round(r.recall(k, cat), 4) for k in ks],
                            *[round(r.tokens(k), 1) for k in ks], s["latency_ms"]["p50"], s["latency_ms"]["p95"],
                            s["ingest_turns_per_s"], r.memories, n,
                            "" if r.f1(cat) != r.f1(cat) else round(r.f1(cat), 4)])  # empty: no --qa


def write_svg(results: dict[str, StrategyResult], ks: list[int], path: Path) -> None:
    """Grouped bars: recall@k per strategy, one group per k and per category at the middle k;
    below, retrieval latency p50 and p95 per strategy."""
    mid = ks[len(ks) // 2]
    groups = [(f"recall@{k}", lambda r, k=k: r.recall(k)) for k in ks] + \
             [(f"{name}@{mid}", lambda r, c=c: r.recall(mid, c)) for c, name in CATEGORIES.items()]
    names = list(results)
    bw, gap, h, top, left = 14, 22, 260, 40, 50
    gw = len(names) * bw + gap
    width = left + len(groups) * gw + 180
    lat_top, row = h + top + 70, 18
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{lat_top + 40 + len(names) * row}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="20" font-size="14">LoCoMo evidence recall per strategy</text>']
    for i in range(6):
        y = top + h - i * h / 5
        parts.append(f'<line x1="{left}" x2="{left + len(groups) * gw}" y1="{y}" y2="{y}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{i / 5:.1f}</text>')
    for g, (label, value) in enumerate(groups):
        x0 = left + g * gw + gap / 2
        for j, name in enumerate(names):
            v = value(results[name])
            v = 0.0 if v != v else v  # NaN: no question in that category
            parts.append(f'<rect x="{x0 + j * bw}" y="{top + h - v * h:.1f}" width="{bw - 2}" height="{v * h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(name)} {label}: {v:.3f}</title></rect>')
        parts.append(f'<text x="{x0 + len(names) * bw / 2}" y="{top + h + 16}" text-anchor="middle">'
                     f'{html.escape(label)}</text>')
    parts += svg_legend(names, left + len(groups) * gw + 20, top)
    parts.append(f'<text x="{left}" y="{lat_top + 10}" font-size="14">Retrieval latency per question, ms '
                 f'(p50 dark, p95 light)</text>')
    slowest = max((_latencies(results[n])[1] for n in names), default=0.0) or 1.0
    span = len(groups) * gw - 120
    for j, name in enumerate(names):
        y = lat_top + 24 + j * row
        p50, p95 = _latencies(results[name])
        colour = PALETTE[j % len(PALETTE)]
        parts.append(f'<text x="{left + 110}" y="{y + 11}" text-anchor="end">{html.escape(name)}</text>'
                     f'<rect x="{left + 116}" y="{y}" width="{p95 / slowest * span:.1f}" height="{row - 4}" '
                     f'fill="{colour}" opacity="0.35"/>'
                     f'<rect x="{left + 116}" y="{y}" width="{p50 / slowest * span:.1f}" height="{row - 4}" '
                     f'fill="{colour}"/>'
                     f'<text x="{left + 122 + p95 / slowest * span:.1f}" y="{y + 11}">{p50:.1f} / {p95:.1f}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))
