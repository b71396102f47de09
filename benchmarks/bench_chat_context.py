"""The chat benchmark's context part alone: is the answer in the prompt? (no generation, ~1 min)

Same conversation and questions as bench_chat.py, every reply fixed ("OK."), so no model
runs; for each question, the memory block (`Chat.unseen`, as a real turn builds it)
and the history window are checked for an answer. Tune rows are listed when they miss;
held-out ones are only counted (tune on `tune`, report `heldout`).

    .venv/bin/python benchmarks/bench_chat_context.py longmemeval --k 12
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
import bench_chat as bench  # noqa: E402

import memcli.chat.memory_work as chat_module  # noqa: E402
from memcli.clock import SimulatedClock  # noqa: E402
from memcli.settings import load_settings  # noqa: E402
from memcli.chat import open_chat  # noqa: E402
from memcli.model.factory import build_chat_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("strategy")
    parser.add_argument("--k", type=int, default=None, help="Memories per turn (default: the top_k setting).")
    parser.add_argument("--depth", type=int, default=None, help="Override FILL_DEPTH (memories ranked beyond k).")
    args = parser.parse_args()
    if args.depth is not None:
        chat_module.FILL_DEPTH = args.depth
    script = yaml.safe_load(bench.CONVERSATION.read_text(encoding="utf-8"))
    found = {"tune": [0, 0], "heldout": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), llm_memory="off")
        k = args.k or settings.top_k
        clock = SimulatedClock(bench._when(script["days"][0]["date"]) - bench.GAP)
        with open_chat(settings, strategy=args.strategy, model=build_chat_model(settings), clock=clock,
                       background=False) as chat:
            for day in script["days"]:
                at = bench._when(day["date"])
                for text in day["messages"]:
                    clock.set(max(at, clock.now() + timedelta(seconds=1)))
                    chat.send(text, k=k, reply=bench.STATEMENT_REPLY)
                    at += bench.GAP
            for q in script["questions"]:
                clock.set(max(bench._when(q["date"]), clock.now() + timedelta(seconds=1)))
                window = chat.strategy.history_window(chat.history_messages)
                shown = chat.view().turns(window) if window else []
                result = chat.send(q["question"], k=k, reply=bench.STATEMENT_REPLY)
                memories = chat.unseen(result.retrieval, shown).hits
                prompt = "\n".join([t.text for t in shown] + [h.text for h in memories]).replace(q["question"], "")
                hit = bench._has(prompt, q["answers"])
                found[q["split"]][0] += hit
                found[q["split"]][1] += 1
                if q["split"] == "tune" and not hit:
                    print(f"  missed {q['id']} {q['question']!r}")
    print(f"{args.strategy} k={k} depth={chat_module.FILL_DEPTH}: answer in context "
          + " · ".join(f"{s} {n}/{total}" for s, (n, total) in found.items()))


if __name__ == "__main__":
    main()
