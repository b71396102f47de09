"""Finding the GGUF chat models already on this machine.

Where other tools keep them: Ollama's store (a manifest per `name:tag` naming a blob),
LM Studio's models folder, the Hugging Face hub cache, llama.cpp's download cache, and
the `models_dir` setting. Each file's size, architecture and quantisation come from its
GGUF header; a file without a chat template (an embedding model, a vision projector) is
not a chat model and is left out. Nothing is loaded.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from memcli.model.base import ModelError
from memcli.model.gguf import QUANTS, default_model_path, read_header

_KEYS = frozenset({"general.architecture", "general.name", "general.file_type", "tokenizer.chat_template"})
_SHARD = re.compile(r"-(\d{5})-of-\d{5}\.gguf$")  # split files: only the first part is listed
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"


@dataclass(frozen=True)
class FoundModel:
    name: str  # what `--model NAME` accepts
    path: Path
    source: str  # embedded, ollama, lmstudio, huggingface, llama.cpp, models_dir
    size: int
    architecture: str
    quantisation: str

    def as_dict(self) -> dict[str, str | int]:
        return {**asdict(self), "path": str(self.path)}


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def _ggufs(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        for path in sorted(folder.rglob("*.gguf")):
            shard = _SHARD.search(path.name)
            if shard is None or shard.group(1) == "00001":
                yield path


def _ollama() -> Iterator[tuple[str, Path]]:
    root = Path(os.environ.get("OLLAMA_MODELS") or _home() / ".ollama" / "models")
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        for layer in layers:
            if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_LAYER:
                blob = root / "blobs" / str(layer.get("digest", "")).replace(":", "-")
                parts = manifest.relative_to(manifests).parts  # registry / namespace / model / tag
                model = parts[-2] if parts[-3:-2] == ("library",) else "/".join(parts[1:-1])
                yield f"{model}:{parts[-1]}", blob


def _huggingface() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    return Path(os.environ.get("HF_HOME") or _home() / ".cache" / "huggingface") / "hub"


def _folders(models_dir: Path | None) -> list[tuple[str, Path]]:
    home = _home()
    folders = [
        ("lmstudio", home / ".lmstudio" / "models"),
        ("lmstudio", home / ".cache" / "lm-studio" / "models"),
        ("huggingface", _huggingface()),
        ("llama.cpp", Path(os.environ.get("LLAMA_CACHE") or home / ".cache" / "llama.cpp")),
    ]
    return folders + ([("models_dir", models_dir)] if models_dir is not None else [])


def _described(name: str, path: Path, source: str) -> FoundModel | None:
    header = read_header(path, _KEYS)
    if not header or "tokenizer.chat_template" not in header:
        return None
    ftype = header.get("general.file_type")
    return FoundModel(name, path, source, path.stat().st_size, str(header.get("general.architecture", "?")),
                      QUANTS.get(ftype, f"type {ftype}") if isinstance(ftype, int) else "?")


def find_models(models_dir: Path | None = None) -> list[FoundModel]:
    """Every GGUF chat model found, the embedded one first; the same file is listed once."""
    candidates: list[tuple[str, Path, str]] = []
    try:
        embedded = default_model_path()
        candidates.append((embedded.stem, embedded, "embedded"))
    except ModelError:
        pass
    candidates += [(name, blob, "ollama") for name, blob in _ollama()]
    for source, folder in _folders(models_dir):
        candidates += [(path.stem, path, source) for path in _ggufs(folder)]
    found, seen = [], set()
    for name, path, source in candidates:
        try:
            real = path.resolve(strict=True)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        model = _described(name, path, source)
        if model is not None:
            found.append(model)
    return found


def find_model(name: str, models_dir: Path | None = None) -> FoundModel:
    """The model called `name` (exactly, else case-insensitively, else the one name starting with it)."""
    models = find_models(models_dir)
    for match in (lambda m: m.name == name, lambda m: m.name.lower() == name.lower(),
                  lambda m: m.name.lower().startswith(name.lower())):
        hits = [m for m in models if match(m)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ModelError(f"model name {name!r} is ambiguous: {', '.join(m.name for m in hits)}")
    raise ModelError(f"no model called {name!r} (not a file, an endpoint URL or a name `memcli models` lists)")
