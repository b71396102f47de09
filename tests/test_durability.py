"""One writer per data dir; a SIGKILL loses no acknowledged event and leaves no half batch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from memcli.core import operations as ops
from memcli.core.lock import WriterLockError
from memcli.engine import Engine
from memcli.settings import load_settings

HELPERS = Path(__file__).parent / "helpers"


def test_second_writer_in_process_is_refused(settings) -> None:
    with Engine(settings):
        with pytest.raises(WriterLockError, match=f"pid {os.getpid()}"):
            Engine(settings)


def test_second_writer_process_gets_one_line_error(settings) -> None:
    with Engine(settings) as engine:
        engine.apply("ns", [ops.Add(text="hello")], sync_index=False)
        proc = subprocess.run(
            [sys.executable, "-m", "memcli", "rebuild", "--data-dir", str(settings.data_dir)],
            capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "in use by" in lines[0] and str(os.getpid()) in lines[0]
    assert "Traceback" not in proc.stderr


def _crash_once(data_dir: Path, rng: random.Random) -> int:
    proc = subprocess.Popen(
        [sys.executable, str(HELPERS / "crash_writer.py"), str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    acked = 0
    want = rng.randint(2, 12)
    for line in proc.stdout:  # type: ignore[union-attr]
        acked = int(line.split()[1])
        want -= 1
        if want == 0:
            break
    time.sleep(rng.uniform(0, 0.03))  # land somewhere inside a later batch
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert acked > 0, proc.stderr.read()  # type: ignore[union-attr]
    return acked


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_mid_batch_loses_nothing_acknowledged(tmp_path: Path, seed: int) -> None:
    data_dir = tmp_path / "data"
    acked = _crash_once(data_dir, random.Random(seed))
    with Engine(load_settings(data_dir=data_dir)) as engine:  # the dead writer's lock is gone
        events = engine.store.events()
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers are gap-free"
        assert seqs[-1] >= acked, "every acknowledged event survived"
        sizes = Counter(e.batch for e in events)
        assert set(sizes.values()) == {20}, f"a half-applied batch: {sizes}"
        stored = engine.store.projection()
        assert len(stored.memories) == len(events)
        assert engine.store.state_as_of(seqs[-1]) == stored
