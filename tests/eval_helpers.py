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
    return without_timings(json.loads(out.read_text()))


def without_timings(data: dict) -> dict:
    """An eval's `--json --details` output without the timings."""
    for summary in data["strategies"]:
        for key in TIMINGS:
            summary.pop(key)
    for rows in data["questions"].values():
        for row in rows:
            row.pop("latency_s")
    return data


def two_conversations(tmp_path: Path) -> Path:
    """The tiny fixture twice, the second copy without its first session (so the two differ)."""
    first = json.loads(FIXTURE.read_text())[0]
    second = json.loads(json.dumps(first))
    second["sample_id"] = "tiny-2"
    conv = second["conversation"]
    conv.pop("session_1"), conv.pop("session_1_date_time")
    second["qa"] = [q for q in second["qa"] if all(e.startswith("D2:") for e in q.get("evidence", []))]
    path = tmp_path / "two.json"
    path.write_text(json.dumps([first, second]))
    return path
