"""The vector search's product runs on one BLAS thread, gives the same sums, and leaves the limit as it was."""

from __future__ import annotations

import threading

import numpy as np
from threadpoolctl import threadpool_info

from memcli.index.blas import one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_blas_thread_inside_the_same_sums_and_the_limit_restored_after() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, 384)).astype(np.float32)  # large enough for OpenBLAS to thread it
    query = vectors[7] / np.linalg.norm(vectors[7])
    before = _blas_threads()
    expected = vectors @ query
    with one_blas_thread():
        inside = _blas_threads()
        got = vectors @ query
    assert inside and set(inside) == {1}
    assert _blas_threads() == before
    assert np.array_equal(got, expected)


def test_concurrent_searches_leave_the_limit_as_it_was() -> None:
    before = _blas_threads()
    vectors = np.ones((5_000, 384), dtype=np.float32)

    def search() -> None:
        for _ in range(50):
            with one_blas_thread():
                vectors @ vectors[0]

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _blas_threads() == before
