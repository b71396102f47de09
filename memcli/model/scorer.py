"""Token surprisal under the chat model: -log p(token | the tokens before it), and how likely
the model finds a text after a given context (`likelihood`, for re-ranking: memcli.strategy.rerank).

SirLLM (Yao et al., 2024) calls this a token's entropy and keeps the phrases whose tokens
the model finds hard to predict. Scoring is one forward pass over a short text, no
sampling, so it is deterministic and cheap even with the embedded SmolLM2-135M.

A second llama.cpp context is opened for it with `logits_all=True` (which the chat context
does not need and which llama-cpp-python requires for log-probabilities). The weights are
memory-mapped, so both contexts share them; the extra cost is a small KV cache and the
logits buffer. Scoring in its own context also leaves the chat context's prompt cache alone.

The log-probabilities are llama-cpp-python's own (`Llama.logits_to_logprobs`, what
`create_completion(logprobs=…, echo=True)` uses), taken from the logits of one `eval` of
[BOS] + the text. `create_completion` itself is not used: with echo it normalises all
n_ctx rows of the logits buffer on every call, and without a BOS token in the prompt (the
SmolLM2 GGUF adds none) it pairs each token with the distribution after it, not before it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memcli.model.base import ModelError
from memcli.model.gguf import check_model_file, default_model_path


@dataclass(frozen=True)
class TokenScore:
    """One token of the scored text: where it starts (a character offset) and its surprisal in nats."""

    text: str
    start: int
    surprisal: float


class TokenScorer:
    def __init__(self, path: Path | None = None, *, n_threads: int = 1, n_ctx: int = 256) -> None:
        self.path = check_model_file(path) if path is not None else default_model_path()
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self._llm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama

                self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_batch=self.n_ctx,
                                  n_threads=self.n_threads, n_threads_batch=self.n_threads, logits_all=True,
                                  verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelError(f"llama.cpp cannot load {self.path.name} for scoring [{exc}]") from None
        return self._llm

    def surprisal(self, text: str) -> list[TokenScore]:
        """Each token of `text` (at most n_ctx - 1 of them; the rest is not scored) with -log p."""
        from llama_cpp import Llama

        with self._lock:
            llm = self._load()
            ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[: self.n_ctx - 1]
            if not ids:
                return []
            llm.reset()  # every text from an empty cache: the same numbers live and in a backfill
            llm.eval([llm.token_bos()] + ids)
            logprobs = Llama.logits_to_logprobs(llm.scores[: len(ids)])  # row i: the distribution of token i
            out: list[TokenScore] = []
            done = b""
            for i, tid in enumerate(ids):
                start = len(done.decode("utf-8", errors="ignore"))
                done += llm.detokenize([tid], prev_tokens=ids[:i])
                piece = done.decode("utf-8", errors="ignore")[start:]
                out.append(TokenScore(piece, start, float(-logprobs[i][tid])))
            return out

    def likelihood(self, context: str, text: str) -> float:
        """The mean log p of `text`'s tokens after `context` (the context's start is cut to fit n_ctx)."""
        import numpy as np

        with self._lock:
            llm = self._load()
            tail = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[: self.n_ctx // 2]
            if not tail:
                return 0.0
            head = llm.tokenize(context.encode("utf-8"), add_bos=False, special=False)
            head = head[max(0, len(head) - (self.n_ctx - 1 - len(tail))):]
            llm.reset()
            llm.eval([llm.token_bos()] + head + tail)
            rows = np.asarray(llm.scores[len(head): len(head) + len(tail)], dtype=np.float64)  # row i: token i's
            top = rows.max(axis=1)
            log_norm = top + np.log(np.exp(rows - top[:, None]).sum(axis=1))
            return float((rows[np.arange(len(tail)), tail] - log_norm).mean())
