"""Re-rank retrieved memories by how likely the chat model makes the question after each one (UPR).

UPR (Sachan et al., 2022, "Improving Passage Retrieval with Zero-Shot Question Generation")
scores a passage by log p(question | passage, "write a question about this passage") under a
language model. It needs no training and no new weights: the embedded SmolLM2-135M scores
with its own small context (memcli.model.scorer). That model is weak, so its order is fused
with the retrieval's order by reciprocal rank fusion rather than replacing it.

It costs one model pass per memory re-ranked (about 0.35 s for a LoCoMo turn, measured with two
llama.cpp threads; the engine's scorer uses one), so a strategy offers it as a parameter, off by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memcli.strategy.maxsim import RRF_K
from memcli.strategy.values import Hit

if TYPE_CHECKING:
    from memcli.strategy.view import MemoryView

PROMPT = "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"


def by_question_likelihood(query: str, hits: list[Hit], view: MemoryView, depth: int) -> list[Hit]:
    """The first `depth` hits in the order fused from theirs and the model's (mean log p of the question
    after each), the rest after them as they were; each re-ranked hit's parts gain `question_logp`."""
    top = hits[:depth]
    logps = [view.likelihood(PROMPT.format(passage=h.text), " " + query.strip()) for h in top]
    by_model = sorted(range(len(top)), key=lambda i: (-logps[i], i))
    model_rank = {i: rank for rank, i in enumerate(by_model)}
    fused = {i: 1.0 / (RRF_K + i + 1) + 1.0 / (RRF_K + model_rank[i] + 1) for i in range(len(top))}
    order = sorted(range(len(top)), key=lambda i: (-fused[i], i))
    return [Hit(top[i].memory_id, top[i].text, fused[i], {**top[i].parts, "question_logp": logps[i]},
                top[i].sources) for i in order] + hits[depth:]
