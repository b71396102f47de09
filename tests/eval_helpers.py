"""Running `memcli eval locomo` for tests that compare two runs: everything but the timings."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from memcli.cli.app import app

FIXTURE = Path(__file__).parent / "fixtures" / "locomo_tiny.json"
TIMINGS = ("latency_ms", "ingest_turns_per_s", "ingest_seconds")


def eval_without_timings(args: list[str], out: Path) -> dict:
    """The `--json --details` output of an eval run, timings removed (they differ run to run)."""
    result = CliRunner().invoke(app, ["eval", "locomo", *args, "--details", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for summary in data["strategies"]:
        for key in TIMINGS:
            summary.pop(key)
    for rows in data["questions"].values():
        for row in rows:
            row.pop("latency_s")
    return data
