"""`memcli models` finds the real embedded GGUF placed in each supported location; `--model NAME` uses it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memcli.cli.app import app
from memcli.model import gguf

runner = CliRunner()
SMOL = gguf.default_model_path()


def _place(path: Path) -> Path:
    """A hard link to the real file (a copy across file systems): a distinct file, as on a real machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(SMOL, path)
    except OSError:
        shutil.copyfile(SMOL, path)
    return path


def _layouts(home: Path, extra: Path) -> dict[str, tuple[str, Path]]:
    """(expected name, placed file) per source, each in the layout that tool writes."""
    digest = "sha256-" + "ab" * 32
    blob = _place(home / ".ollama/models/blobs" / digest)
    manifest = home / ".ollama/models/manifests/registry.ollama.ai/library/smollm2/135m"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "cd" * 32},
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest.replace("-", ":")}]}))
    hf = home / ".cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/snapshots/0123abc"
    return {
        "ollama": ("smollm2:135m", blob),
        "lmstudio": ("smollm2-135m-instruct-q4_1",
                     _place(home / ".lmstudio/models/lmstudio-community/SmolLM2/smollm2-135m-instruct-q4_1.gguf")),
        "huggingface": ("smollm2-135m-instruct-q8_0", _place(hf / "smollm2-135m-instruct-q8_0.gguf")),
        "llama.cpp": ("bartowski_SmolLM2-135M-Instruct-Q4_1",
                      _place(home / ".cache/llama.cpp/bartowski_SmolLM2-135M-Instruct-Q4_1.gguf")),
        "models_dir": ("my-smol", _place(extra / "chat/my-smol.gguf")),
    }


@pytest.fixture
def layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, Path]]:
    home = tmp_path / "home"
    for var in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE", "LLAMA_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MEMCLI_MODELS_DIR", str(tmp_path / "extra"))
    placed = _layouts(home, tmp_path / "extra")
    (tmp_path / "extra/chat/notes.txt").write_text("not a model")
    (tmp_path / "extra/chat/broken.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")  # a truncated header: skipped
    os.symlink(placed["models_dir"][1], tmp_path / "extra/chat/same-file-again.gguf")  # one file is listed once
    return placed


def test_models_finds_a_gguf_in_every_supported_location(layouts, tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "--json", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    found = {m["source"]: m for m in json.loads(result.output)}
    assert set(found) == {"embedded", *layouts}
    for source, (name, path) in layouts.items():
        m = found[source]
        assert (m["name"], m["path"]) == (name, str(path))
        # read from the header of the real file
        assert (m["architecture"], m["quantisation"], m["size"]) == ("llama", "Q4_1", SMOL.stat().st_size)
    table = runner.invoke(app, ["models", "--data-dir", str(tmp_path / "d")])
    assert table.exit_code == 0 and "smollm2:135m" in table.output and "ollama" in table.output


def test_model_by_name_chats_with_the_found_file(layouts, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "Say hi", "--model", "smollm2:135m", "--max-tokens", "8", "--json",
                                 "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stats"]["model_id"] == "smollm2:135m"  # the name it was found by


def test_an_unknown_model_name_is_one_line_and_exit_1(layouts, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "hi", "--model", "no-such-model", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "memcli: error: no model called 'no-such-model' (not a file, an endpoint URL or a name `memcli models` "
        "lists)"]
    assert not (tmp_path / "d").exists()
