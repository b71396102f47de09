"""`memcli eval locomo --ray ADDRESS`: the conversation × strategy units of `--workers`, as Ray tasks.

Ray schedules the units over the nodes of a running cluster, one CPU each, and retries a unit
whose worker process died; a unit is `memcli.eval.parallel.run_unit`, so the merged results are
those of the serial run (tests/test_ray_eval.py). Each Ray worker process builds its embedder
and tokenizer once. Nothing is shipped to the nodes: each needs memcli installed (`pip install
'memcli[ray]'`, the same version and strategies as the driver) and writes the ONNX export of the
embedder once into its own cache.
"""

from __future__ import annotations

import socket
from typing import Callable

from memcli.errors import MemcliError
from memcli.eval.locomo import StrategyResult, StrategySpec
from memcli.eval.parallel import Job, Unit, merge, run_unit, work_units
from memcli.replay.importers import Conversation

PROBE_SECONDS = 5.0


class RayError(MemcliError):
    """Ray is missing, or no cluster answers at the address given."""


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a `host:port` or `ray://host:port` address; None for `auto` and the like."""
    bare = address.removeprefix("ray://")
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def preflight(address: str) -> None:
    """Fail in seconds, before any work, when Ray is missing or nothing listens at the address
    (Ray's own driver retries an unreachable head for many minutes)."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise RayError("--ray needs Ray: pip install 'memcli[ray]'")
    target = _host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise RayError(f"--ray: no Ray head answers at {address} ({exc.strerror or exc}); start one with "
                       "`ray start --head` and pass the address it prints") from None


def evaluate_ray(conversations: list[Conversation], specs: list[StrategySpec], job: Job, *, address: str,
                 progress: Callable[[str, int, int], None] | None = None) -> dict[str, StrategyResult]:
    """Run every unit as a task on the Ray cluster at `address`; `progress(label, units done, units)`."""
    import ray

    preflight(address)
    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    try:
        task = ray.remote(num_cpus=1)(run_unit)
        job_ref = ray.put(job)
        units = work_units(conversations, specs)
        pending = {task.remote(unit, job_ref): unit for unit in units}
        done: list[tuple[Unit, StrategyResult]] = []
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                unit = pending.pop(ready[0])
                done.append((unit, _result(ray, ready[0])))
                if progress is not None:
                    progress(f"{unit.conversation.id} {unit.spec.label} done", len(done), len(units))
        except BaseException:
            for ref in pending:  # one failed unit fails the run: the rest are not waited for
                ray.cancel(ref, force=True)
            raise
        return merge(specs, done, conversations)
    finally:
        ray.shutdown()


def _result(ray, ref) -> StrategyResult:
    """A unit's result; a user error inside it (a bad strategy parameter) comes out as itself."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, MemcliError):
            raise exc.cause from None
        raise
