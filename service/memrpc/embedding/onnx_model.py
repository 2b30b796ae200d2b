"""Sentence embeddings with onnxruntime: mean pooling and L2 normalisation.

The default model is the packaged all-MiniLM-L6-v2 with int8 weights
(`embedding/model_files.py` finds a model's files).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from memrpc.embedding.base import EmbeddingError
from memrpc.embedding.identity import ModelIdentity, identify
from memrpc.embedding.model_files import model_files

#: Texts per model run. On CPU a larger run saves little per-call overhead and
#: pays for padding and longer attention, so texts are sorted by length and run
#: in small chunks (measured: 8 is near the best for short and mixed texts).
CHUNK_SIZE = 8


class OnnxModel:
    """A sentence-transformers ONNX export and its tokenizer; synchronous.

    ``model_dir`` holds ``model.onnx``, ``tokenizer.json`` and optionally
    ``sentence_bert_config.json``; ``None`` selects the packaged
    all-MiniLM-L6-v2 (int8). ``threads`` bounds onnxruntime's intra-op threads.
    """

    def __init__(self, model_dir: Path | None = None, *, threads: int = 1) -> None:
        files = model_files(model_dir)
        model_file, tokenizer_file = files.onnx, files.tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:
            raise EmbeddingError(f"cannot load tokenizer {tokenizer_file}: {exc}") from exc
        # tokenizer.json may pad to a fixed length; pad to the longest text instead.
        padding = self._tokenizer.padding or {}
        self._tokenizer.enable_padding(
            pad_id=padding.get("pad_id", 0), pad_token=padding.get("pad_token", "[PAD]")
        )
        self._tokenizer.enable_truncation(files.max_seq_length)

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise EmbeddingError(f"cannot load ONNX model {model_file}: {exc}") from exc

        inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise EmbeddingError(
                f"{model_file} lacks the inputs input_ids and attention_mask: {sorted(inputs)}"
            )
        self._feeds_token_types = "token_type_ids" in inputs
        outputs = {o.name: o for o in self._session.get_outputs()}
        output = outputs.get("last_hidden_state") or next(iter(outputs.values()))
        if len(output.shape) != 3:
            raise EmbeddingError(
                f"{model_file} output {output.name} is not [batch, sequence, hidden]"
            )
        self._output = output.name
        width = output.shape[2]
        self._dim = width if isinstance(width, int) else self._run(["dim"]).shape[1]
        self._identity = identify(files, self._dim)

    @property
    def dim(self) -> int:
        """Length of every vector (384 for all-MiniLM-L6-v2)."""
        return self._dim

    @property
    def identity(self) -> ModelIdentity:
        """Which model this is: its name, dimension and fingerprint."""
        return self._identity

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-norm float32 rows, shape ``(len(texts), dim)``, in the order of ``texts``."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(order), CHUNK_SIZE):
            chunk = order[start : start + CHUNK_SIZE]
            result[chunk] = self._run([texts[i] for i in chunk])
        return result

    def _run(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Tokenize, run the model once, mean-pool over the mask, L2-normalise."""
        encodings = self._tokenizer.encode_batch(list(texts))
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64)}
        feeds["attention_mask"] = mask
        if self._feeds_token_types:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run([self._output], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
