"""Text embedders."""

from memcli.embed.embedder import (
    Embedder,
    EmbedderError,
    SentenceTransformerEmbedder,
    text_hash,
)

__all__ = ["Embedder", "EmbedderError", "SentenceTransformerEmbedder", "text_hash"]
