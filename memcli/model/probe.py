"""Can this model extract facts? A tiny fixed check, run once per model and remembered.

`llm_memory = auto` lets strategies call the model for memory work only when it passes:
the strategies' own extraction call (memcli.strategy.ask, FACTS_SCHEMA) on one sentence
with three facts must return all three. SmolLM2-135M fails it (measured: `{"facts": []}`),
a capable GGUF or endpoint passes, whatever its file is called. The verdict is kept in
the data dir (`model_probes.json`), keyed by the model file's name, size and time or by
the endpoint and model name, so the check costs one model call per model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


PROBE_MESSAGE = "My name is Ada, I live in Lisbon and I am allergic to peanuts."
PROBE_FACTS = ("ada", "lisbon", "peanut")
PROBE_FILE = "model_probes.json"


def probe_key(model: Any) -> str:
    """What identifies the model: its file (name, size, mtime) or its endpoint and served name."""
    from memcli.model.factory import gguf_of

    path = gguf_of(model)
    if path is not None and path.exists():
        stat = path.stat()
        return f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}"
    return f"{getattr(model, 'base_url', '')}|{model.model_id}"


def extracts_facts(model: Any) -> tuple[bool, list[str]]:
    """Run the check: (passed, the facts the model returned). A model that cannot answer
    (a server without structured output, a cassette without the call) raises."""
    from memcli.strategy.ask import FACTS_SCHEMA, ask_json, listed_facts

    facts = ask_json(model, "List the facts in this message.", PROBE_MESSAGE, FACTS_SCHEMA, read=listed_facts,
                     fallback=lambda why: [], max_tokens=160)
    said = " ".join(facts).lower()
    return bool(facts) and all(word in said for word in PROBE_FACTS), facts


_seen: dict[str, bool] = {}  # verdicts of this process, so one model is probed once per run


def probed(model: Any, data_dir: Path) -> bool:
    """The remembered verdict for `model`, probing it the first time; False when it cannot answer."""
    key = probe_key(model)
    if key in _seen:
        return _seen[key]
    cache = data_dir / PROBE_FILE
    try:
        verdicts = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
    except (OSError, ValueError):
        verdicts = {}
    if key not in verdicts:
        try:
            passed, facts = extracts_facts(model)
        except Exception:  # noqa: BLE001 - any model that cannot answer the probe does no memory work
            return False  # not remembered: the next session asks again
        verdicts[key] = {"extracts_facts": passed, "facts": facts}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(verdicts, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only or missing data dir: the verdict holds for this process only
    _seen[key] = bool(verdicts[key].get("extracts_facts"))
    return _seen[key]
