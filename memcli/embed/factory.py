"""Build the configured embedder (nothing is loaded yet)."""

from __future__ import annotations

from memcli.embed.embedder import DEFAULT_EMBEDDER, Embedder, SentenceTransformerEmbedder
from memcli.embed.onnx_embedder import OnnxEmbedder
from memcli.settings import Settings


def build_embedder(settings: Settings, *, threads: int | None = None) -> Embedder:
    """The default model on ONNX Runtime unless `embedder_backend` is torch; a folder on torch.

    `threads`: the most threads one batch may use (parallel eval gives each worker its share).
    """
    if settings.embedder == DEFAULT_EMBEDDER and settings.embedder_backend == "onnx":
        return OnnxEmbedder(settings.embedder_cache or settings.data_dir / "embedder", threads=threads)
    return SentenceTransformerEmbedder(settings.embedder, threads=threads)
