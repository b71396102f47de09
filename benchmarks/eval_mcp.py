"""Agent memory over MCP, end to end (issue 19): a set of eval_sets/mcp/*.yaml is told to a fresh
`memcli mcp` (stdio, official SDK client) with `remember`, the `later` facts after the others,
then every probe is asked with `recall`. A probe is found at 1 / at k when its `expect` text is in
the first / the first k hits; a probe with `newer_than` also counts as current when no hit above
the expected one holds the old value.

    .venv/bin/python benchmarks/eval_mcp.py eval_sets/mcp/seen.yaml -S mem0 -S rag-turns
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _common import save  # noqa: E402

from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.types import Implementation  # noqa: E402


def _index(hits: list[dict[str, Any]], text: str) -> int | None:
    return next((i for i, h in enumerate(hits) if text.lower() in h["text"].lower()), None)


async def run(spec: dict[str, Any], strategy: str, k: int) -> dict[str, Any]:
    env = {key: v for key, v in os.environ.items() if key.startswith("MEMCLI_") or key in ("PATH", "HOME")}
    with tempfile.TemporaryDirectory(prefix="memcli-eval-mcp-") as tmp:
        params = StdioServerParameters(command=str(Path(sys.executable).with_name("memcli")),
                                       args=["mcp", "--data-dir", tmp, "--strategy", strategy], env=env)
        async with Client(params, client_info=Implementation(name="eval", version="1"),
                          read_timeout_seconds=300) as client:
            for text in spec["remember"] + spec.get("later", []):
                result = await client.call_tool("remember", {"text": text})
                assert not result.is_error, result.content
            rows = []
            for probe in spec["probes"]:
                result = await client.call_tool("recall", {"query": probe["query"], "k": k})
                assert not result.is_error, result.content
                hits = result.structured_content["hits"]
                at = _index(hits, probe["expect"])
                row = {"query": probe["query"], "expect": probe["expect"], "rank": None if at is None else at + 1,
                       "top": hits[0]["text"] if hits else ""}
                if "newer_than" in probe:
                    old = _index(hits, probe["newer_than"])
                    row["current"] = at is not None and (old is None or at < old or old == at)
                rows.append(row)
    n = len(rows)
    updates = [r for r in rows if "current" in r]
    return {"probes": n, "at_1": round(sum(r["rank"] == 1 for r in rows) / n, 3),
            f"at_{k}": round(sum(r["rank"] is not None for r in rows) / n, 3),
            "updates_current": f"{sum(r['current'] for r in updates)}/{len(updates)}", "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("-S", "--strategy", action="append", default=None)
    parser.add_argument("-k", type=int, default=3)
    args = parser.parse_args()
    spec = yaml.safe_load(args.set.read_text())
    out = {}
    for strategy in args.strategy or ["mem0"]:
        out[strategy] = asyncio.run(run(spec, strategy, args.k))
        summary = {key: v for key, v in out[strategy].items() if key != "rows"}
        print(f"{args.set.stem} · {strategy}: {summary}", flush=True)
        for row in out[strategy]["rows"]:
            if row["rank"] != 1 or row.get("current") is False:
                print(f"   miss@1: {row['query']!r} expected {row['expect']!r}, rank {row['rank']}, top {row['top']!r}")
    print(f"wrote {save(f'eval_mcp_{args.set.stem}', {'set': str(args.set), 'k': args.k, 'results': out})}")


if __name__ == "__main__":
    main()
