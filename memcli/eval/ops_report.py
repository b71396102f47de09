"""Reports of `memcli eval ops`: per-operation tables, the findings, JSON, CSV and an SVG chart."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from memcli.eval.ops import OpsResult
from memcli.eval.report import PALETTE, svg_legend

OPERATIONS = {  # table title → (metric, column header, lower is better)
    "Extraction": [("recall", "recall", False), ("precision", "precision", False),
                   ("fabrication", "fabricated", True), ("false_memory_resistance", "FMR", False)],
    "Updating": [("update_accuracy", "correct", False), ("update_conflict", "conflict", True),
                 ("update_omission", "omitted", True)],
    "Question answering": [("qa_accuracy", "accuracy", False)],
}
COUNTS = {"Extraction": "{recalled}/{points}·{matched}/{memories}·{forbidden_stored}/{forbid}",
          "Updating": "{updates} updates", "Question answering": "{answered}/{questions}"}
JUDGED = {"Extraction": "recall, precision and FMR by the matcher; fabricated: word overlap or cosine with a "
                        "message (never judged)",
          "Updating": "every figure by the matcher",
          "Question answering": "the answer's tokens in the top k memories (never judged)"}


def _pct(value: float) -> str:
    return "—" if value != value else f"{value:.0%}"


def print_tables(results: dict[str, OpsResult], console: Console | None = None) -> None:
    """One narrow table per operation (↑ higher is better, ↓ lower is better)."""
    console = console or Console()
    for title, metrics in OPERATIONS.items():
        judged = title != "Question answering"
        table = Table(title=title, caption=JUDGED[title])
        table.add_column("strategy", style="bold")
        for _, header, lower in metrics:
            table.add_column(f"{header} {'↓' if lower else '↑'}", justify="right")
        table.add_column("pts·mem·forbid" if title == "Extraction" else "counts", style="dim", no_wrap=True)
        if judged:
            table.add_column("matcher", style="dim")
        for name, r in results.items():
            m = r.metrics()
            table.add_row(name, *[_pct(m[key]) for key, _, _ in metrics], COUNTS[title].format(**r.counts),
                          *([r.matcher_line()] if judged else []))
        console.print(table)


def print_details(results: dict[str, OpsResult], console: Console | None = None) -> None:
    """Each miss, fabrication, stored forbidden point, failed update and wrong answer, with provenance."""
    console = console or Console()
    for name, r in results.items():
        console.print(f"[bold]{name}[/]: {len(r.findings)} findings (matcher: {r.matcher_line()})")
        for f in r.findings:
            sim = f" (cosine {f.similarity:.2f})" if f.similarity is not None else ""
            console.print(f"  [yellow]{f.kind}[/] [{f.conversation}] expected: {f.expected or '—'}", markup=True,
                          highlight=False)
            if f.memory:
                console.print(f"      memory {f.memory_id}: {f.memory}{sim}", markup=False, highlight=False)
            for line in f.provenance:
                console.print(f"        from: {line}", markup=False, highlight=False)
        for v in r.verdicts.values():
            said = "match" if v.match else "no match"
            by = "judge" if v.by == "llm" else f"rule, the judge's reply was invalid: {v.error}"
            console.print(Text.assemble(("  verdict ", "cyan"), f"{said} ({by}, cosine {v.cosine:.2f}): "
                                        f"{v.point} ⇔ {v.memory}"), highlight=False)


def write_json(results: dict[str, OpsResult], path: Path, details: bool = False) -> None:
    path.write_text(json.dumps({"strategies": [r.summary(details) for r in results.values()]}, indent=2,
                               ensure_ascii=False))


def write_csv(results: dict[str, OpsResult], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        keys = [key for metrics in OPERATIONS.values() for key, _, _ in metrics]
        writer.writerow(["strategy", *keys, *next(iter(results.values())).counts, "matcher", "judged_pairs",
                         "judge_fallbacks"] if results else ["strategy"])
        for name, r in results.items():
            m = r.metrics()
            writer.writerow([name, *[f"{m[k]:.4f}" if m[k] == m[k] else "" for k in keys], *r.counts.values(),
                             r.matcher, len(r.verdicts), sum(v.by == "rule" for v in r.verdicts.values())])


def write_svg(results: dict[str, OpsResult], path: Path) -> None:
    """Grouped bars, one group per metric (its operation above it), one bar per strategy."""
    groups = [(title, key, header, lower) for title, metrics in OPERATIONS.items() for key, header, lower in metrics]
    names = list(results)
    bw, gap, h, top, left = 14, 24, 240, 56, 50
    gw = len(names) * bw + gap
    width = left + len(groups) * gw + 200
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + h + 50}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="20" font-size="14">Memory operations per strategy (↑ higher is better, '
             f'↓ lower is better)</text>']
    for i in range(6):
        y = top + h - i * h / 5
        parts.append(f'<line x1="{left}" x2="{left + len(groups) * gw}" y1="{y}" y2="{y}" stroke="#ddd"/>'
                     f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{i / 5:.0%}</text>')
    shown_title = ""
    for g, (title, key, header, lower) in enumerate(groups):
        x0 = left + g * gw + gap / 2
        if title != shown_title:
            parts.append(f'<text x="{x0}" y="{top - 12}" font-weight="bold">{html.escape(title)}</text>')
            shown_title = title
        for j, name in enumerate(names):
            v = results[name].metrics()[key]
            v = 0.0 if v != v else v  # NaN: nothing of that kind in the data
            parts.append(f'<rect x="{x0 + j * bw}" y="{top + h - v * h:.1f}" width="{bw - 2}" height="{v * h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(name)} {header}: {v:.3f}'
                         f'</title></rect>')
        parts.append(f'<text x="{x0 + len(names) * bw / 2}" y="{top + h + 16}" text-anchor="middle">'
                     f'{html.escape(header)} {"↓" if lower else "↑"}</text>')
    parts += svg_legend(names, left + len(groups) * gw + 20, top)
    parts.append("</svg>")
    path.write_text("\n".join(parts))
