"""The chat benchmark: does a chat answer from memory?

A scripted conversation (benchmarks/chat_conversation.yaml, written for this benchmark by
someone who had not seen memcli's code): one user's messages over simulated days, some
facts later updated, then questions with `answers` (any one, case-insensitive), `wrong`
(the outdated value of an updated fact) and `split: tune | heldout`. Every message goes
through the real turn pipeline (retrieval, context, the model's streamed reply, memory
work), with the clock set to the message's time.

For each question it records:
- in_context: an answer is in the prompt the model got, the question itself left out
  (memcli's part: retrieval and context building);
- in_reply: the reply contains an answer (the model's part);
- wrong: the reply names the outdated value and no answer;
- repeated: the reply is identical (case and spacing aside) to an earlier reply.
Repeats are also counted over every reply of the run, statements included (with
`--statements fixed` the statements' replies are a fixed "OK." and are not counted).

Tune only on the `tune` split; the `heldout` figures are for the report.

    .venv/bin/python benchmarks/bench_chat.py --strategies rag-turns,longmemeval --llm-memory off,auto
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, save  # noqa: E402

from memcli.clock import SimulatedClock  # noqa: E402
from memcli.settings import Settings, load_settings  # noqa: E402
from memcli.chat import open_chat  # noqa: E402
from memcli.model.factory import build_chat_model  # noqa: E402

CONVERSATION = Path(__file__).parent / "chat_conversation.yaml"
GAP = timedelta(minutes=2)  # between two messages of one day
STATEMENT_REPLY = "OK."  # --statements fixed: the model answers the questions only (a faster run)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _has(text: str, needles: list[str]) -> bool:
    text = _norm(text)
    return any(_norm(n) in text for n in needles)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _marks(row: dict[str, Any]) -> str:
    """C: answer in context, R: in the reply, W: the outdated value instead, =: a repeated reply."""
    return "".join(m if row[k] else "." for m, k in (("C", "in_context"), ("R", "in_reply"), ("W", "wrong"),
                                                     ("=", "repeated")))


def run(script: dict, strategy: str, llm_memory: str, args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"llm_memory": llm_memory, "n_threads": args.threads, "model": args.model}
    if args.history is not None and "history" in Settings.model_fields:
        overrides["history"] = args.history
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), **overrides)
        clock = SimulatedClock(_when(script["days"][0]["date"]) - GAP)
        replies: list[str] = []
        repeats_all = 0
        started = time.perf_counter()
        with open_chat(settings, strategy=strategy, model=build_chat_model(settings), clock=clock,
                       background=False) as chat:
            for day in script["days"]:
                at = _when(day["date"])
                for text in day["messages"]:
                    clock.set(max(at, clock.now() + timedelta(seconds=1)))
                    fixed = STATEMENT_REPLY if args.statements == "fixed" else None
                    reply = chat.send(text, k=settings.top_k, max_tokens=args.max_tokens, reply=fixed).reply
                    if fixed is None:
                        repeats_all += _norm(reply.text) in {_norm(r) for r in replies}
                        replies.append(reply.text)
                    print(f"  {len(replies)} replies", end="\r", flush=True)
                    at += GAP
            rows = []
            for q in script["questions"]:
                clock.set(max(_when(q["date"]), clock.now() + timedelta(seconds=1)))
                result = chat.send(q["question"], k=settings.top_k, max_tokens=args.max_tokens)
                prompt = "\n".join(m["content"] for m in result.context.messages).replace(q["question"], "")
                reply = result.reply.text
                repeated = _norm(reply) in {_norm(r) for r in replies}
                repeats_all += repeated
                replies.append(reply)
                in_reply = _has(reply, q["answers"])
                rows.append({
                    "id": q["id"], "split": q["split"], "question": q["question"], "reply": reply,
                    "in_context": _has(prompt, q["answers"]), "in_reply": in_reply,
                    "wrong": not in_reply and _has(reply, q.get("wrong") or []), "repeated": repeated,
                    "prompt_tokens": result.generation.stats.prompt_tokens if result.generation else 0,
                })
                with (RESULTS / f"bench_{args.label}.rows.jsonl").open("a") as out:  # kept if a run is cut short
                    out.write(json.dumps({"strategy": strategy, "llm_memory": llm_memory, **rows[-1]}) + "\n")
                if args.split in ("all", q["split"]):  # as it goes: a long run shows its progress
                    print(f"  {_marks(rows[-1])} {q['id']} {q['question'][:50]!r} → {reply[:70]!r}", flush=True)
            llm_used = chat.view().model is not None
    return {"strategy": strategy, "llm_memory": llm_memory, "llm_used": llm_used, "model": settings.model or
            "SmolLM2-135M-Instruct (embedded)", "questions": rows, "repeats_all_replies": repeats_all,
            "replies": len(replies), "seconds": round(time.perf_counter() - started, 1)}


def summary(result: dict[str, Any], split: str) -> dict[str, Any]:
    rows = [r for r in result["questions"] if split == "all" or r["split"] == split]
    n = len(rows)
    return {"n": n, **{key: sum(r[key] for r in rows) for key in ("in_context", "in_reply", "wrong", "repeated")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversation", type=Path, default=CONVERSATION)
    parser.add_argument("--strategies", default="rag-turns,longmemeval")
    parser.add_argument("--llm-memory", default="off,auto", help="Comma-separated llm_memory modes.")
    parser.add_argument("--model", default=None, help="A GGUF path, a model name or an endpoint URL (default: embedded).")
    parser.add_argument("--history", type=int, default=None, help="Override the history setting (messages).")
    parser.add_argument("--max-tokens", type=int, default=64, help="Reply length cap (answers come early).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--statements", default="model", choices=("model", "fixed"),
                        help="fixed: the messages before the questions get the reply 'OK.' instead of the model's "
                             "(retrieval and memory work run as usual; the model answers every question).")
    parser.add_argument("--split", default="tune", choices=("tune", "heldout", "all"),
                        help="Which questions to show one by one (all are scored and saved).")
    parser.add_argument("--label", default="chat", help="Name of the results file in benchmarks/results/.")
    args = parser.parse_args()
    script = yaml.safe_load(args.conversation.read_text(encoding="utf-8"))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"bench_{args.label}.rows.jsonl").unlink(missing_ok=True)
    results = []
    for strategy in args.strategies.split(","):
        for mode in args.llm_memory.split(","):
            result = run(script, strategy, mode, args)
            results.append(result)
            shown = ("tune", "heldout") if args.split != "tune" else ("tune",)  # heldout only when asked for
            parts = {s: summary(result, s) for s in shown}
            print(f"{strategy} llm_memory={mode} (LLM path used: {result['llm_used']}) "
                  + " · ".join(f"{s}: context {p['in_context']}/{p['n']}, reply {p['in_reply']}/{p['n']}, "
                               f"wrong {p['wrong']}, repeated {p['repeated']}" for s, p in parts.items())
                  + f" · repeats over all {result['replies']} replies: {result['repeats_all_replies']}"
                  + f" · {result['seconds']} s", flush=True)
    path = save(f"bench_{args.label}", {"args": {k: str(v) for k, v in vars(args).items()}, "results": [
        {**r, "summary": {s: summary(r, s) for s in ("tune", "heldout", "all")}} for r in results]})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
