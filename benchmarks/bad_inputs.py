"""A fixed corpus of bad inputs, run through the CLI: how many end in a traceback, how many change
the data dir while failing. Deterministic (no random draws), so the same corpus can be run on an
older checkout for a before/after figure:

    .venv/bin/python benchmarks/bad_inputs.py                       # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/bad_inputs.py --label before

The corpus: every leaf of a valid OpenAI export, LoCoMo sample, session file and exported event,
replaced in turn by hostile values (null, NaN, 1e20, huge text, deep nesting, …); each of those
files truncated, with byte-order marks, as UTF-16 and nested 5,000 deep; the inputs issue #12
reported; hostile command-line options, config files and MEMCLI_* variables. Results go to
benchmarks/results/bad_inputs-<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from _common import save  # noqa: E402
from reliability_helpers import replaced, value_paths  # noqa: E402  (the fuzz tests' own helpers)

from memcli.cli.app import app  # noqa: E402

runner = CliRunner()
HOSTILE = [None, float("nan"), 1e20, -1, "", "x" * 100_000, [[[[[[[[[[]]]]]]]]]], {"a": None}, True,
           "9999-12-31T23:59:59Z", "../../x", "[red]m[/]"]
SEEDS = json.loads((Path(__file__).parent.parent / "tests" / "fixtures" / "bad_input_seeds.json").read_text())
OPENAI, LOCOMO, SESSION = SEEDS["openai"], SEEDS["locomo"], SEEDS["session"]


def variants(doc: Any) -> list[bytes]:
    """Each leaf replaced by each hostile value, then the whole file damaged in the usual ways."""
    out = [json.dumps(replaced(doc, p, h), default=str).encode() for p in value_paths(doc) for h in HOSTILE]
    raw = json.dumps(doc).encode()
    out += [raw[:n] for n in range(0, len(raw), max(1, len(raw) // 8))]
    out += [b"\xef\xbb\xbf" + raw, b"\xff\xfe" + raw, raw.decode().encode("utf-16"), b"[" * 5000 + b"]" * 5000,
            b"5", b"null", b""]
    return out


def _state(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name != "writer.lock"} if path.exists() else {}


class Tally:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = {}
        self.examples: list[str] = []

    def run(self, surface: str, args: list[str], data: Path, env: dict[str, str] | None = None) -> None:
        row = self.rows.setdefault(surface, {"tried": 0, "tracebacks": 0, "data_changed_on_error": 0,
                                             "not_one_line": 0})
        before = _state(data)
        result = runner.invoke(app, args, env=env)
        row["tried"] += 1
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed:
            row["tracebacks"] += 1
            if len(self.examples) < 40:
                self.examples.append(f"{surface}: {type(result.exception).__name__}: "
                                     f"{str(result.exception)[:100]}")
        expectations_failed = result.exit_code == 1 and not result.stderr.strip() and "expectation" in result.stdout
        if (result.exit_code not in (0, 2) and not expectations_failed) or crashed:  # a replay's verdict is no error
            if _state(data) != before:
                row["data_changed_on_error"] += 1
            lines = (result.stderr or "").strip().splitlines()
            if not crashed and len(lines) != 1:
                row["not_one_line"] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        seed = tmp / "seed"
        chat = tmp / "chat.json"
        chat.write_text(json.dumps(OPENAI))
        assert runner.invoke(app, ["ingest", str(chat), "-f", "openai", "-S", "rag-turns", "-d", str(seed)]).exit_code == 0
        export = tmp / "export.jsonl"
        assert runner.invoke(app, ["export", str(export), "-d", str(seed)]).exit_code == 0
        lines = export.read_text().splitlines()
        n = 0

        def fresh() -> Path:
            nonlocal n
            n += 1
            target = tmp / f"d{n}"
            shutil.copytree(seed, target)
            return target

        def each(surface: str, docs: list[bytes], suffix: str, command: Callable[[Path, Path], list[str]],
                 data_of: Callable[[], Path]) -> None:
            for i, raw in enumerate(docs):
                path = tmp / f"in{i}{suffix}"
                path.write_bytes(raw)
                data = data_of()
                tally.run(surface, command(path, data), data)

        nowhere = lambda: tmp / "never"  # noqa: E731 - commands that must not create a data dir
        each("openai importer (convert)", variants(OPENAI), ".json",
             lambda p, d: ["convert", str(p), "-f", "openai", "-o", str(tmp / "out")], nowhere)
        each("locomo importer (convert)", variants(LOCOMO), ".json",
             lambda p, d: ["convert", str(p), "-f", "locomo", "-o", str(tmp / "out")], nowhere)
        each("session files (replay)", [v for v in variants(SESSION)][::2], ".yaml",
             lambda p, d: ["replay", str(p), "-S", "full-context", "-d", str(d)], nowhere)
        event = json.loads(lines[2])
        bad_events = [json.dumps(replaced(event, p, h), default=str) for p in value_paths(event) for h in HOSTILE[:6]]
        exports = [("\n".join([*lines[:2], e, *lines[3:]])).encode() for e in bad_events]
        exports += ["\n".join(lines[:k]).encode() for k in range(1, len(lines))]
        exports += [b"5", b"\xff\xfe5", b'{"seq": 1, "batch": "x"}']
        each("import", exports, ".jsonl", lambda p, d: ["import", str(p), "-d", str(d)],
             lambda: tmp / f"imp{n}")
        options = [["memories", "list", "--status", "bogus"], ["memories", "list", "-S", "nosuch"],
                   ["memories", "search", "x", "--mode", "fuzzy"], ["memories", "search", "x", "-k", "0"],
                   ["memories", "show", "m999"], ["memories", "edit", "m999", "x"], ["memories", "edit", "m1", " "],
                   ["memories", "forget", "m999", "--hard"], ["memories", "restore", "m1"],
                   ["log", "--since", "yesterday"], ["log", "--as-of", "-5"], ["log", "--sql", "SELEC"],
                   ["log", "--sql", "SELECT * FROM read_csv('/etc/passwd')"],
                   ["log", "--sql", f"COPY events TO '{tmp}/x.csv'"], ["log", "--sql", "INSTALL httpfs"],
                   ["log", "-S", "nosuch"], ["export", str(tmp / "x.txt")], ["strategies", "show", "nosuch"],
                   ["strategies", "backfill", "nosuch"], ["strategies", "backfill", "mem0", "--set", "top_s=NaN"],
                   ["backup", str(seed / "memcli.duckdb")], ["convert", str(tmp / "missing.json")]]
        for option in options:
            data = fresh()
            tally.run("CLI options", [*option, "-d", str(data)], data)
        configs = [b"n_ctx = 1e20", b"[[[", b"\xff\xfe", b"strategy = 5", b"nosuch = 1", b"top_k = nan",
                   b"data_dir = 5"]
        for raw in configs:
            config = tmp / "config.toml"
            config.write_bytes(raw)
            data = fresh()
            tally.run("config file", ["memories", "pin", "m1", "-S", "rag-turns", "-d", str(data)], data,
                      env={"MEMCLI_CONFIG": str(config)})
        data = fresh()
        tally.run("config file", ["memories", "list", "-d", str(data)], data, env={"MEMCLI_CONFIG": str(tmp)})
        for key, value in [("MEMCLI_TOP_K", "-1"), ("MEMCLI_N_CTX", "1e20"), ("MEMCLI_TEMPERATURE", "nan"),
                           ("MEMCLI_STRATEGY", "nosuch"), ("MEMCLI_LLM_MEMORY", "maybe"), ("MEMCLI_SEED", "x")]:
            data = fresh()
            tally.run("environment", ["memories", "pin", "m1", "-S", "rag-turns", "-d", str(data)], data,
                      env={key: value})
        readonly = fresh()
        real_open = os.open

        def refusing(path, flags, *a, **k):  # a read-only data dir, as the OS reports it (also for root)
            if str(path).startswith(str(readonly)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(30, os.strerror(30), str(path))
            return real_open(path, flags, *a, **k)

        os.open = refusing
        try:
            for command in (["memories", "pin", "m1"], ["memories", "forget", "m1", "--hard"], ["rebuild"],
                            ["strategies", "backfill", "mem0"], ["ingest", str(chat), "-f", "openai"]):
                tally.run("read-only data dir", [*command, "-S", "rag-turns", "-d", str(readonly)]
                          if command[0] == "memories" else [*command, "-d", str(readonly)], readonly)
        finally:
            os.open = real_open
    total = {k: sum(r[k] for r in tally.rows.values()) for k in ("tried", "tracebacks", "data_changed_on_error",
                                                                 "not_one_line")}
    out = {"label": args.label, "surfaces": tally.rows, "total": total, "examples": tally.examples,
           "seconds": round(time.perf_counter() - started, 1)}
    path = save(f"bad_inputs-{args.label}", out)
    print(json.dumps({"total": total, "surfaces": tally.rows}, indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
