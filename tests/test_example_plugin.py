"""The example third-party plugin package installs, is discovered and works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[1] / "examples" / "memcli-recency"


def test_example_plugin_installs_and_is_discovered(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "MEMCLI_CONFIG": str(tmp_path / "none.toml")}
    show = subprocess.run([sys.executable, "-m", "memcli", "strategies", "show", "recency", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert show.returncode == 0, show.stderr
    info = json.loads(show.stdout)
    assert info["origin"] == "entry point memcli_recency:Recency"
    assert [p["name"] for p in info["params"]] == ["half_life_hours"]

    script = (
        "from pathlib import Path\n"
        "from memcli.clock import SimulatedClock\n"
        "from memcli.engine import Engine\n"
        "from memcli.chat import Chat\n"
        "from memcli.settings import load_settings\n"
        "from memcli.strategy.registry import StrategyRegistry\n"
        f"engine = Engine(load_settings(data_dir=Path({str(tmp_path / 'data')!r})), clock=SimulatedClock())\n"
        "s = Chat(engine, StrategyRegistry(), model=None, strategy='recency', background=False)\n"
        "clock = engine.clock\n"
        "s.send('I had sushi for dinner', reply='yum'); clock.advance('10d')\n"
        "s.send('I had pizza for dinner', reply='nice'); clock.advance('1h')\n"
        "r = s.retrieve('what did I have for dinner?', 2)\n"
        "print(r.hits[0].text, round(r.hits[0].parts['recency'], 3), round(r.hits[1].parts['recency'], 3))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    text, newer, older = run.stdout.strip().rsplit(" ", 2)
    assert text == "User: I had pizza for dinner"  # the recent memory wins
    assert float(newer) > 0.98 and float(older) < 0.1
