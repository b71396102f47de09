"""Default chat model: load time, time to first token, tokens/s; and the prompt layouts.

Layouts compared at turn 20 of a scripted conversation, each turn carrying a memory block
that changes every turn (as retrieval does):
- system: memories appended to the system message (in front of the history);
- late:   memories inside the final user message (after the history; memcli's default).
llama.cpp re-uses the KV cache of the longest common prefix with the previous call, so the
layout decides how much of the prompt is prefilled again each turn.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).parent))
from _common import save  # noqa: E402

from memcli.context import DEFAULT_SYSTEM, assemble  # noqa: E402
from memcli.model.llama import LlamaChatModel  # noqa: E402

PROMPTS = ["Say hello in five words.", "What is the capital of France?", "Give me three tips for sleeping well.",
           "Write a haiku about autumn.", "Explain what a memory workbench is."]
FACTS = ["The user's name is Ada.", "Ada lives in Lisbon.", "Ada is allergic to peanuts.", "Ada plays the cello.",
         "Ada's sister Zoe lives in Porto.", "Ada likes green tea.", "Ada works as a nurse.", "Ada has a dog, Rex.",
         "Ada runs on Sundays.", "Ada is learning Japanese.", "Ada's birthday is in May.", "Ada visited Paris in 2024."]


def bench_basics(model: LlamaChatModel, repeat: int) -> dict:
    ttft, tps = [], []
    for i in range(repeat):
        model._llm.reset()  # a cold prompt each time: no prefix re-use
        gen = model.stream([{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}], max_tokens=64, temperature=0.0)
        "".join(gen)
        ttft.append(gen.stats.ttft_s * 1000)
        if gen.stats.tokens_per_s:
            tps.append(gen.stats.tokens_per_s)
    return {"load_s": round(model.load_seconds or 0, 3), "ttft_ms_p50": round(statistics.median(ttft), 1),
            "tokens_per_s_p50": round(statistics.median(tps), 1), "n": repeat}


def bench_layout(model: LlamaChatModel, layout: str, turns: int) -> dict:
    model._llm.reset()
    history: list[dict[str, str]] = []
    ttfts, prompt_tokens, cached = [], [], []
    for t in range(turns):
        memories = [FACTS[(t + j) % len(FACTS)] for j in range(5)]  # a different block every turn
        user = f"Turn {t}: {PROMPTS[t % len(PROMPTS)]}"
        messages = assemble(DEFAULT_SYSTEM, memories, history, user, layout)  # type: ignore[arg-type]
        gen = model.stream(messages, max_tokens=24, temperature=0.0)
        reply = "".join(gen)
        ttfts.append(gen.stats.ttft_s * 1000)
        prompt_tokens.append(gen.stats.prompt_tokens)
        cached.append(gen.stats.cached_prompt_tokens)
        history += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return {"ttft_ms_turn_20": round(ttfts[-1], 1), "ttft_ms_mean_turns_16_20": round(statistics.mean(ttfts[-5:]), 1),
            "prompt_tokens_turn_20": prompt_tokens[-1], "cached_prefix_tokens_turn_20": cached[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    console = Console()
    started = time.perf_counter()
    model = LlamaChatModel(n_threads=args.threads, n_ctx=4096)
    model.load()
    results = {"model": model.model_id, "threads": args.threads, "basics": bench_basics(model, args.repeat)}
    console.print(results["basics"])
    results["layouts"] = {layout: bench_layout(model, layout, args.turns) for layout in ("system", "late")}
    console.print(results["layouts"])
    results["seconds"] = round(time.perf_counter() - started, 1)
    console.print(f"saved {save('model', results)}")


if __name__ == "__main__":
    main()
