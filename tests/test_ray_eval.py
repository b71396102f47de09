"""`memcli eval locomo --ray ADDRESS`: the units as tasks on a real Ray head started here on
127.0.0.1 give the serial run's results (only the timings differ). Every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from eval_helpers import FIXTURE, eval_without_timings, two_conversations, without_timings
from memcli.cli.app import app

HEAD_START_S = 180  # a busy 2-core machine has needed ~15 s; the bound only turns a hang into a failure
EVAL_S = 900
# Ray resolves a loopback address to the host's outward IP unless cluster mode is off; off, the head,
# its workers and the driver all stay on 127.0.0.1 (ray_constants.ENABLE_RAY_CLUSTER).
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A Ray head on 127.0.0.1 (`ray start --head --block`, its own process group), stopped after."""
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # Ray's socket paths must stay short
    log = temp / "head.log"
    ray_cli = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_cli), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"],
        env={**os.environ, **LOOPBACK}, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + HEAD_START_S
        while not _listening(port):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not listen on 127.0.0.1:{port} within {HEAD_START_S} s "
                            f"(exit code {head.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # the head's group: gcs, raylet and the workers it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def _ray_eval(path: Path, tmp_path: Path, address: str) -> dict:
    out = tmp_path / "ray.json"
    cmd = [sys.executable, "-m", "memcli", "eval", "locomo", str(path), "-S", "rag-turns,rag-turns:mode=vector,mem0",
           "--k", "1,3,10", "--ray", address, "--details", "--json", str(out), "--data-dir", str(tmp_path / "dray")]
    try:
        done = subprocess.run(cmd, env={**os.environ, **LOOPBACK}, capture_output=True, text=True, timeout=EVAL_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"eval --ray {address} did not finish within {EVAL_S} s; stderr:\n{(exc.stderr or '')[-3000:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    return without_timings(json.loads(out.read_text()))


def test_ray_eval_equals_serial(tmp_path: Path, ray_head: str) -> None:
    path = two_conversations(tmp_path)
    serial = eval_without_timings([str(path), "-S", "rag-turns,rag-turns:mode=vector,mem0", "--k", "1,3,10",
                                   "--workers", "1", "--data-dir", str(tmp_path / "d1")], tmp_path / "serial.json")
    assert [s["conversations"] for s in serial["strategies"]] == [2, 2, 2]
    assert _ray_eval(path, tmp_path, ray_head) == serial


def test_an_address_where_no_head_listens_fails_in_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["eval", "locomo", str(FIXTURE), "--ray", f"127.0.0.1:{_free_port()}",
                                      "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "no Ray head answers at 127.0.0.1:" in result.output and "Traceback" not in result.output
    assert time.monotonic() - started < 120  # the probe, not Ray's minutes of retries
    assert not (tmp_path / "d" / "memcli.duckdb").exists()


def test_ray_and_workers_together_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "locomo", str(FIXTURE), "--ray", "127.0.0.1:6379", "--workers", "2",
                                      "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1 and "choose one" in result.output
