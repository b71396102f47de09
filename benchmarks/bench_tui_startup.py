"""Time from launching the workbench to an interactive first screen.

Each run is a fresh process (as a user starts it): it loads the settings and runs the Textual
app headless as `memcli chat` does (memcli.tui.run); an auto-pilot sends a key as soon as the app runs and records the
moment the prompt holds it, i.e. the screen is interactive, while a worker still opens the chat
(DuckDB, the engine) and the embedder and the model load in background workers. Then it
measures when the chat is open and when the models are ready. Each run's data dir
is new, so by default each run also exports the ONNX embedder (a first launch);
`--embedder-cache DIR` uses an existing export (every later launch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import save  # noqa: E402

CHILD = r"""
import time, json, sys
t0 = float(sys.argv[1])
from contextlib import ExitStack
from pathlib import Path
from memcli.settings import load_settings
from memcli.tui.run import workbench
settings = load_settings(data_dir=Path(sys.argv[2]))
out = {}

async def pilot(p):
    from textual import events

    # not p.press(): it also waits until the process is idle, i.e. for the opening worker
    app.post_message(events.Key("h", "h"))
    prompt = app.query_one("#prompt")
    while prompt.value != "h":
        await p.pause(0.005)
    out["interactive_s"] = time.time() - t0
    out["prompt"] = prompt.value
    while app.chat is None:  # the opening worker opens the chat (DuckDB, the engine) after the first screen
        await p.pause(0.01)
    out["chat_open_s"] = time.time() - t0
    while app._loading and sys.argv[3] == "models":  # the warm-up worker clears it once the embedder and the model are loaded
        await p.pause(0.05)
    out["models_ready_s"] = time.time() - t0
    app.exit()

with ExitStack() as stack:  # as `memcli chat` runs it (memcli.tui.run.run_workbench)
    app, opening = workbench(settings, stack)
    app.run(headless=True, size=(120, 40), auto_pilot=pilot)
    opening.settle()
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--embedder-cache", type=Path, default=None,
                    help="an existing ONNX export to use (as every launch after the first does); "
                         "default: each run's fresh data dir, so each run exports the embedder in the background")
    ap.add_argument("--no-models", action="store_true",
                    help="end each run once the chat is open (models_ready_s is then that time, not the models')")
    ap.add_argument("--out", default="tui_startup", help="results/<out>.json")
    args = ap.parse_args()
    env = dict(os.environ)
    if args.embedder_cache is not None:
        env["MEMCLI_EMBEDDER_CACHE"] = str(args.embedder_cache)
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.time()
            proc = subprocess.run([sys.executable, "-c", CHILD, str(started), tmp,
                                   "no-models" if args.no_models else "models"], capture_output=True, text=True,
                                  timeout=300, env=env)
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    interactive = [r["interactive_s"] for r in runs]
    ready = [r["models_ready_s"] for r in runs]
    opened = [r["chat_open_s"] for r in runs]
    result = {"runs": args.runs, "interactive_s_median": round(statistics.median(interactive), 3),
              "interactive_s_max": round(max(interactive), 3),
              "chat_open_s_median": round(statistics.median(opened), 3), "models_ready_s_median": round(statistics.median(ready), 2),
              "prompt_took_keys": all(r["prompt"] == "h" for r in runs)}
    print(result)
    print(f"saved {save(args.out, result)}")


if __name__ == "__main__":
    main()
