"""LoCoMo evaluation fanned out: one work unit per conversation × strategy.

A unit is the serial harness (`memcli.eval.locomo.evaluate`) on one conversation and one
strategy, so it ingests that conversation live into its own temporary data dir instead of
backfilling beside the other strategies; the memories come out the same (backfill replays
each turn at its logged time, and memory ids are numbered per namespace), so the merged
results equal the serial run's except for the timings (tests/test_parallel_eval.py).

Units run in worker processes (`spawn`: LanceDB and ONNX Runtime keep threads, which do
not survive a fork), each worker building its embedder and tokenizer once; `run_unit` needs
nothing from the parent process, so another executor can run the same units.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Iterable

from memcli.eval.locomo import StrategyResult, StrategySpec, evaluate
from memcli.replay.importers import Conversation
from memcli.settings import Settings


@dataclass(frozen=True)
class Job:
    """What every unit of one evaluation shares."""

    settings: Settings
    ks: tuple[int, ...]
    qa: bool = False
    qa_k: int | None = None
    threads: int = 1  # for the embedder's batches and the QA model


@dataclass(frozen=True)
class Unit:
    conversation: Conversation
    spec: StrategySpec


def work_units(conversations: list[Conversation], specs: list[StrategySpec]) -> list[Unit]:
    return [Unit(conv, spec) for conv in conversations for spec in specs]


_resources: dict[str, tuple] = {}  # per worker process: (embedder, model), built on its first unit


def _embedder_and_model(job: Job) -> tuple:
    from memcli.embed.factory import build_embedder
    from memcli.model.factory import build_chat_model

    key = job.settings.model_dump_json() + str(job.threads)
    if key not in _resources:
        _resources[key] = (build_embedder(job.settings, threads=job.threads),
                           build_chat_model(job.settings.model_copy(update={"n_threads": job.threads})))
    return _resources[key]


def run_unit(unit: Unit, job: Job) -> StrategyResult:
    embedder, model = _embedder_and_model(job)
    results = evaluate([unit.conversation], [unit.spec], job.settings, ks=list(job.ks), embedder=embedder,
                       count_tokens=model.count_tokens, qa_model=model if job.qa else None, qa_k=job.qa_k)
    return results[unit.spec.label]


def merge(specs: list[StrategySpec], done: Iterable[tuple[Unit, StrategyResult]],
          conversations: list[Conversation]) -> dict[str, StrategyResult]:
    """Unit results → one StrategyResult per strategy, questions in conversation order (as serially)."""
    by_unit = {(unit.conversation.id, unit.spec.label): result for unit, result in done}
    merged = {spec.label: StrategyResult(spec.label) for spec in specs}
    for conv in conversations:
        for spec in specs:
            part, total = by_unit[(conv.id, spec.label)], merged[spec.label]
            total.questions.extend(part.questions)
            total.ingest_seconds += part.ingest_seconds
            total.turns += part.turns
            total.memories += part.memories
            total.conversations += part.conversations
    return merged


def evaluate_parallel(conversations: list[Conversation], specs: list[StrategySpec], job: Job, *, workers: int,
                      progress: Callable[[str, int, int], None] | None = None) -> dict[str, StrategyResult]:
    """Run every unit on `workers` processes; `progress(label, units done, units)`."""
    units = work_units(conversations, specs)
    done: list[tuple[Unit, StrategyResult]] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(units)) or 1, mp_context=context) as pool:
        futures = {pool.submit(run_unit, unit, job): unit for unit in units}
        try:
            for future in as_completed(futures):
                unit = futures[future]
                done.append((unit, future.result()))
                if progress is not None:
                    progress(f"{unit.conversation.id} {unit.spec.label} done", len(done), len(units))
        except BaseException:
            pool.shutdown(cancel_futures=True)  # one failed unit fails the run: the rest are not waited for
            raise
    return merge(specs, done, conversations)


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))
