"""Fast batched evaluation: classification/regression outputs and extractive answers (SQuAD).

All inputs are tokenized at once by the fast (Rust) tokenizer, sorted by length and batched, so each batch is
padded only to its own longest sequence; the forward passes run under ``torch.inference_mode`` (and bf16
autocast on a CUDA device that supports it). Outputs are put back in the input order. This is what makes a
full pass over a dev set cheap compared with ``transformers.pipeline`` (see benchmarks/bench_eval.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import numpy as np

#: default examples per forward pass; long inputs are sorted first, so memory peaks on the first batch
BATCH_SIZE = {"cpu": 64, "cuda": 256}


@attrs.frozen
class Runtime:
    """Where and how forward passes run: the device and the autocast precision (None = the model's dtype)."""

    device: str
    autocast: str | None = None

    @property
    def precision(self) -> str:
        return self.autocast or "float32"

    @classmethod
    def for_device(cls, device: str) -> Runtime:
        """bf16 autocast (and TF32 matmuls) on a CUDA device that supports them; float32 elsewhere."""
        import torch

        if device.startswith("cuda"):
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            return cls(device, "bfloat16" if torch.cuda.is_bf16_supported() else None)
        return cls(device)


def default_batch_size(device: str) -> int:
    return BATCH_SIZE["cuda" if device.startswith("cuda") else "cpu"]


def _accepted_inputs(model: Any, names: Sequence[str]) -> list[str]:
    """The tokenizer outputs the model's forward takes (not every architecture takes token_type_ids)."""
    params = inspect.signature(model.forward).parameters
    return [n for n in names if n in params]


def batches_by_length(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Indices of the examples, longest first, in batches of ``batch_size``."""
    import numpy as np

    order = np.argsort(-lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def pad_rows(rows: Sequence[Sequence[int]], value: int) -> np.ndarray:
    import numpy as np

    out = np.full((len(rows), max(len(r) for r in rows)), value, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def forward_sorted(
    model: Any,
    encodings: dict[str, Sequence[Sequence[int]]],
    runtime: Runtime,
    *,
    outputs: Sequence[str],
    pad_id: int,
    batch_size: int,
    per_token: bool = False,
    desc: str = "evaluating",
    progress: bool = True,
) -> dict[str, list[np.ndarray]]:
    """Run ``model`` over pre-tokenized examples in length-sorted, dynamically padded batches.

    Returns, for each name in ``outputs`` (e.g. ``logits``), one array per example in the input order;
    ``per_token`` outputs (QA start/end logits) are cut to the example's own length.
    """
    import contextlib

    import numpy as np
    import torch

    from harness.core import progress as bars

    names = _accepted_inputs(model, list(encodings))
    ids = encodings["input_ids"]
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    results: dict[str, list[Any]] = {name: [None] * len(ids) for name in outputs}
    autocast = (
        torch.autocast(device_type="cuda", dtype=getattr(torch, runtime.autocast))
        if runtime.autocast is not None
        else torch.autocast(device_type="cpu", enabled=False)
    )
    device = torch.device(runtime.device)
    with (
        torch.inference_mode(),
        autocast,
        bars.bar(len(ids), desc, unit="ex") if progress else contextlib.nullcontext(bars.bar_off()) as bar,
    ):
        for batch in batches_by_length(lengths, batch_size):
            inputs = {
                n: torch.from_numpy(pad_rows([encodings[n][i] for i in batch], pad_id if n == "input_ids" else 0)).to(
                    device, non_blocking=True
                )
                for n in names
            }
            out = model(**inputs)
            for name in outputs:
                values = out[name].float().cpu().numpy()
                for row, i in enumerate(batch):
                    results[name][i] = values[row, : lengths[i]] if per_token else values[row]
            bar.update(len(batch))
    return results


def predict_classes(
    model: Any,
    tokenizer: Any,
    texts: Sequence[Sequence[str]],
    runtime: Runtime,
    *,
    max_length: int,
    batch_size: int,
    desc: str = "evaluating",
    progress: bool = True,
) -> np.ndarray:
    """The model's logits ``(n, num_labels)`` for examples given as text columns (one or two: a pair)."""
    import numpy as np

    encodings = tokenizer(*texts, truncation=True, max_length=max_length)
    logits = forward_sorted(
        model,
        dict(encodings),
        runtime,
        outputs=("logits",),
        pad_id=tokenizer.pad_token_id or 0,
        batch_size=batch_size,
        desc=desc,
        progress=progress,
    )["logits"]
    return np.stack(logits)


# ---------------------------------------------------------------- extractive question answering


def truncate_questions(tokenizer: Any, questions: Sequence[str], max_query_length: int) -> list[str]:
    """Questions cut to ``max_query_length`` tokens (run_squad's max_query_length), leading space removed."""
    questions = [q.lstrip() for q in questions]
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for question, offsets in zip(questions, enc["offset_mapping"], strict=True):
        out.append(question[: offsets[max_query_length - 1][1]] if len(offsets) > max_query_length else question)
    return out


def qa_features(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    *,
    max_length: int,
    doc_stride: int,
    max_query_length: int,
) -> Any:
    """Question/context windows (stride ``doc_stride``) with offsets, as run_squad/run_qa build them."""
    return tokenizer(
        truncate_questions(tokenizer, questions, max_query_length),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


def predict_answers(
    model: Any,
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    runtime: Runtime,
    *,
    max_length: int,
    doc_stride: int,
    max_query_length: int,
    max_answer_length: int,
    batch_size: int,
    n_best: int = 20,
    desc: str = "evaluating",
) -> list[str]:
    """The best answer span of each question in its context (the highest start + end logit over windows)."""
    import numpy as np

    enc = qa_features(
        tokenizer, questions, contexts, max_length=max_length, doc_stride=doc_stride, max_query_length=max_query_length
    )
    inputs = {k: enc[k] for k in enc if k not in ("offset_mapping", "overflow_to_sample_mapping")}
    out = forward_sorted(
        model,
        inputs,
        runtime,
        outputs=("start_logits", "end_logits"),
        pad_id=tokenizer.pad_token_id or 0,
        batch_size=batch_size,
        per_token=True,
        desc=desc,
    )
    best: list[tuple[float, str]] = [(-np.inf, "")] * len(questions)
    for f, example in enumerate(enc["overflow_to_sample_mapping"]):
        sequence_ids = enc.sequence_ids(f)
        offsets = enc["offset_mapping"][f]
        start, end = out["start_logits"][f], out["end_logits"][f]
        starts = np.argsort(start)[::-1][:n_best]
        ends = np.argsort(end)[::-1][:n_best]
        context = contexts[example]
        for s in starts:
            if sequence_ids[s] != 1:
                continue
            for e in ends:
                if sequence_ids[e] != 1 or e < s or e - s + 1 > max_answer_length:
                    continue
                score = float(start[s] + end[e])
                if score > best[example][0]:
                    best[example] = (score, context[offsets[s][0] : offsets[e][1]])
    return [text for _, text in best]
