"""Which model made a vector: its name, its dimension and a fingerprint of
the files that decide its vectors.

Two models with the same fingerprint (and dimension) make the same vectors,
whatever they are called: a copy of a model directory under another name is
the same model. The fingerprint is the first `FINGERPRINT_HEX` hex digits of
a SHA-256 over the ONNX file, the tokenizer file (each with its role and
size) and the `max_seq_length` texts are truncated to; the packaged model's
23 MB take about 15 ms to hash. `store/model_record.py` records the identity
next to the index.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from memrpc.embedding.base import EmbeddingError
from memrpc.embedding.model_files import ModelFiles

# Hex digits of a fingerprint: 64 bits tell models apart well enough.
FINGERPRINT_HEX = 16
# Bytes read from a model file at a time while hashing it.
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelIdentity:
    """An embedding model as the index records it."""

    name: str
    dim: int
    fingerprint: str

    def __str__(self) -> str:
        return f"{self.name} (dim {self.dim}, fingerprint {self.fingerprint})"

    def same_vectors(self, other: ModelIdentity) -> bool:
        """Whether `other` makes the vectors this model makes: the same
        dimension and fingerprint (the names may differ)."""
        return (self.dim, self.fingerprint) == (other.dim, other.fingerprint)


def identify(files: ModelFiles, dim: int) -> ModelIdentity:
    """The identity of the model of `files`, whose vectors have `dim`
    numbers; raises `EmbeddingError` for a file that cannot be read."""
    return ModelIdentity(files.name, dim, fingerprint(files))


def fingerprint(files: ModelFiles) -> str:
    """`FINGERPRINT_HEX` hex digits of the SHA-256 of what decides the
    vectors of `files`."""
    digest = hashlib.sha256()
    for role, path in (("model.onnx", files.onnx), ("tokenizer.json", files.tokenizer)):
        for part in _framed(role, path):
            digest.update(part)
    digest.update(f"max_seq_length {files.max_seq_length}\n".encode())
    return digest.hexdigest()[:FINGERPRINT_HEX]


def _framed(role: str, path: Path) -> Iterator[bytes]:
    """The file at `path` as parts to hash: a line with its role and size,
    then its bytes."""
    try:
        with path.open("rb") as file:
            yield f"{role} {os.fstat(file.fileno()).st_size}\n".encode()
            while chunk := file.read(_READ_BYTES):
                yield chunk
    except OSError as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
