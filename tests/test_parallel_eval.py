"""`memcli eval locomo --workers N`: conversation × strategy units in worker processes give the
serial run's results (only the timings differ)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from eval_helpers import FIXTURE, eval_without_timings, two_conversations

from memcli.eval.locomo import StrategyResult, StrategySpec
from memcli.eval.parallel import Unit, merge, work_units
from memcli.replay.importers import read_locomo


def _eval(path: Path, tmp_path: Path, workers: int) -> dict:
    return eval_without_timings([str(path), "-S", "rag-turns,rag-turns:mode=vector,mem0", "--k", "1,3,10",
                                 "--workers", str(workers), "--data-dir", str(tmp_path / f"d{workers}")],
                                tmp_path / f"w{workers}.json")


def test_parallel_eval_equals_serial(tmp_path: Path) -> None:
    path = two_conversations(tmp_path)
    serial, parallel = _eval(path, tmp_path, 1), _eval(path, tmp_path, 2)
    assert [s["conversations"] for s in serial["strategies"]] == [2, 2, 2]
    assert {q["conversation"] for q in serial["questions"]["rag-turns"]} == {"tiny-1", "tiny-2"}
    assert parallel == serial


def test_merge_keeps_the_serial_order() -> None:
    convs = read_locomo(FIXTURE) * 2
    convs[1] = dataclasses.replace(convs[0], id="copy")
    specs = [StrategySpec.parse("a"), StrategySpec.parse("b")]
    units = work_units(convs, specs)
    assert [(u.conversation.id, u.spec.label) for u in units] == [
        ("tiny-1", "a"), ("tiny-1", "b"), ("copy", "a"), ("copy", "b")]

    def part(unit: Unit) -> StrategyResult:
        return StrategyResult(unit.spec.label, questions=[unit.conversation.id], ingest_seconds=1.0, turns=8,
                              memories=3, conversations=1)  # type: ignore[list-item]

    merged = merge(specs, [(u, part(u)) for u in reversed(units)], convs)  # completion order is any order
    assert merged["a"].questions == ["tiny-1", "copy"] and merged["b"].turns == 16
    assert (merged["a"].memories, merged["a"].conversations, merged["a"].ingest_seconds) == (6, 2, 2.0)
