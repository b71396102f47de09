"""One BLAS thread for the index's matrix-vector products.

The vector search is one product of the table's vectors with the query: memory-bound, and
on the 2-core reference machine OpenBLAS's second thread, waiting for a core that the query
embedding or LanceDB's threads hold, made it 0.4 ms p50 but 20 ms p95 at 10k rows (one
thread: 0.6 / 0.7 ms); after each product that thread also spins for a while, taking a core
from the next query's embedding and keyword search (33 ms of CPU per query at 10k against
16 ms on one thread; benchmarks/bench_speed.py). Each row's sum is the same on one thread
as on two.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

_LOCK = threading.Lock()  # the limit is process-wide: two searches must not restore it under each other


@cache
def _controller():
    """The process's BLAS libraries (threadpoolctl), found once."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    with _LOCK, _controller().limit(limits=1, user_api="blas"):
        yield
