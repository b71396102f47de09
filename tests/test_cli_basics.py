"""The CLI's basic commands, through Typer's runner and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from memcli import __version__
from memcli.cli.app import app
from memcli.core import operations as ops
from memcli.engine import Engine

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"memcli {__version__}"


def test_config_path_follows_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEMCLI_CONFIG", str(tmp_path / "c.toml"))
    result = runner.invoke(app, ["config", "path", "--json"])
    assert json.loads(result.stdout) == {"config_file": str(tmp_path / "c.toml"), "exists": False}


def test_config_show_layers_file_env_and_flag(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('top_k = 5\nn_ctx = 2048\nstrategy = "mem0"\n')
    monkeypatch.setenv("MEMCLI_CONFIG", str(cfg))
    monkeypatch.setenv("MEMCLI_N_CTX", "1024")
    result = runner.invoke(app, ["config", "show", "--json", "--data-dir", str(tmp_path / "d")])
    values = json.loads(result.stdout)
    assert values["top_k"] == 5 and values["strategy"] == "mem0"  # from the file
    assert values["n_ctx"] == 1024  # env beats file
    assert values["data_dir"] == str(tmp_path / "d")  # flag beats both


def test_bad_config_is_one_line_error(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("n_ctx = 'lots'\nnot_a_setting = 1\n")
    monkeypatch.setenv("MEMCLI_CONFIG", str(cfg))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 1
    assert "n_ctx" in result.stderr and "not_a_setting" in result.stderr
    assert "Traceback" not in result.output


def test_doctor_quick_reports_data_dir(settings) -> None:
    with Engine(settings) as engine:
        engine.apply("ns", [ops.Add(text="hello")], sync_index=False)
    result = runner.invoke(app, ["doctor", "--quick", "--json", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["data dir"]["ok"] and "1 events" in checks["data dir"]["detail"]
    assert checks["packages"]["ok"]


def test_doctor_loads_real_embedder_and_model(tmp_path: Path) -> None:
    """As a fresh user would run it: a real process, the real default embedder and model."""
    proc = subprocess.run(
        [sys.executable, "-m", "memcli", "doctor", "--json", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert "all-MiniLM-L6-v2" in checks["embedder"]["detail"] and "loaded in" in checks["embedder"]["detail"]
    assert "SmolLM2-135M-Instruct" in checks["chat model"]["detail"]


def test_rebuild_command(settings) -> None:
    with Engine(settings) as engine:
        engine.apply("ns", [ops.Add(text="one"), ops.Add(text="two")], sync_index=False)
    result = runner.invoke(app, ["rebuild", "--json", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["memories"] == 2


def test_core_stays_headless() -> None:
    """The import-linter contracts in pyproject.toml: only memcli.tui may import Textual, and the
    built-in plugins import only the public strategy API (memcli.strategy)."""
    proc = subprocess.run([Path(sys.executable).parent / "lint-imports"], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout
    assert "The built-in plugins import only memcli.strategy KEPT" in proc.stdout


def test_every_package_is_in_the_wheel() -> None:
    """pyproject lists packages explicitly (plugins/ maps to memcli_plugins): a new sub-package
    left out of the list works in an editable install and is missing from a real one."""
    import tomllib

    root = Path(__file__).parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "memcli").rglob("__init__.py")}
    assert found | {"memcli_plugins"} == listed


def test_memcli_without_a_command_opens_the_chat(tmp_path: Path) -> None:
    """Bare `memcli` is the main command: without a terminal it is the plain chat, and an empty stdin ends it."""
    env = {**os.environ, "MEMCLI_DATA_DIR": str(tmp_path / "d"), "MEMCLI_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run([sys.executable, "-m", "memcli"], input="", capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "memcli chat" in done.stderr and "Traceback" not in done.stderr


def test_memcli_d_opens_the_chat_on_that_data_dir(tmp_path: Path) -> None:
    """`memcli -d DIR` (as a new user types it) is `memcli chat -d DIR`; before a command it is a one-line error."""
    env = {**os.environ, "MEMCLI_CONFIG": str(tmp_path / "none.toml")}
    env.pop("MEMCLI_DATA_DIR", None)
    data = tmp_path / "mine"
    done = subprocess.run([sys.executable, "-m", "memcli", "-d", str(data), "-S", "rag-turns"], input="",
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "memcli chat" in done.stderr and (data / "memcli.duckdb").exists()  # the chat ran on DIR
    misplaced = subprocess.run([sys.executable, "-m", "memcli", "-d", str(tmp_path / "other"), "log"],
                               capture_output=True, text=True, env=env, timeout=120)
    assert misplaced.returncode == 1 and "put them after `log`" in misplaced.stderr
    assert "Traceback" not in misplaced.stderr and not (tmp_path / "other").exists()
