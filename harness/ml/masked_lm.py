"""A corpus tokenized for masked-LM training, fixed masks for evaluation, and a masked LM's held-out scores.

Masking follows BERT (and the authors' ``distiller.py`` defaults ``word_mask 0.8, word_keep 0.1, word_rand
0.1``): of the selected positions, 80% become ``[MASK]``, 10% a random token, 10% stay; special tokens are never
selected. transformers' ``DataCollatorForLanguageModeling`` does this; the authors additionally weight the
selection towards rare tokens (``mlm_smoothing 0.7``, from XLM), which is not reproduced here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from harness.core.errors import MeasurementError


def tokenize_corpus(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[dict[str, list[int]]]:
    """One example (input_ids, attention_mask) per non-empty text, truncated to ``max_length`` tokens."""
    kept = [t for t in texts if t.strip()]
    if not kept:
        raise MeasurementError(
            "masked-LM corpus: expected at least one non-empty text, found none; fix: pass the corpus's lines"
        )
    enc = tokenizer(kept, truncation=True, max_length=max_length, return_token_type_ids=False)
    pairs = zip(enc["input_ids"], enc["attention_mask"], strict=True)
    return [{"input_ids": ids, "attention_mask": mask} for ids, mask in pairs]


def mlm_collator(tokenizer: Any, mlm_probability: float) -> Any:
    """Dynamic masking with ``mlm_probability`` (the authors' ``mlm_mask_prop``, 0.15) and BERT's 80/10/10."""
    from transformers import DataCollatorForLanguageModeling

    if not 0.0 < mlm_probability < 1.0:
        raise MeasurementError(
            f"masked LM: mlm_probability {mlm_probability!r}: expected a fraction in (0, 1); fix: use 0.15 "
            "(the authors' mlm_mask_prop)"
        )
    if tokenizer.mask_token is None:
        raise MeasurementError(
            f"masked LM: the tokenizer {type(tokenizer).__name__} has no mask token; expected a BERT-style "
            "tokenizer with [MASK]; fix: use the teacher's tokenizer"
        )
    return DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=mlm_probability)


def fixed_masked_batches(
    tokenizer: Any, texts: Sequence[str], mlm_probability: float, seed: int, batch_size: int, max_length: int
) -> list[dict[str, Any]]:
    """Masked batches drawn once with ``seed``: every model scored on them sees the same masks."""
    import torch

    examples = tokenize_corpus(tokenizer, texts, max_length)
    collate = mlm_collator(tokenizer, mlm_probability)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [collate(examples[i : i + batch_size]) for i in range(0, len(examples), batch_size)]


@attrs.frozen
class MaskedLMScore:
    """Held-out masked-LM scores: mean cross-entropy and top-1 accuracy over the masked positions, and whether
    each masked position (in batch order) was predicted right (``hits``: for paired bootstraps over tokens)."""

    loss: float
    accuracy: float
    predictions: int
    hits: tuple[bool, ...] = ()


def masked_lm_score(model: Any, batches: Sequence[dict[str, Any]], device: str) -> MaskedLMScore:
    """The masked LM's loss and accuracy on ``batches`` (from :func:`fixed_masked_batches`)."""
    import torch
    import torch.nn.functional as F

    was_training = model.training
    model.eval()
    total_loss, hits = 0.0, []
    try:
        with torch.inference_mode():
            for batch in batches:
                labels = batch["labels"].to(device)
                logits = model(
                    input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)
                ).logits.float()
                chosen = labels != -100
                total_loss += float(F.cross_entropy(logits[chosen], labels[chosen], reduction="sum"))
                hits.extend(bool(h) for h in (logits[chosen].argmax(-1) == labels[chosen]).tolist())
    finally:
        model.train(was_training)
    count = len(hits)
    if count == 0:
        raise MeasurementError(
            "masked-LM score: no position was masked in the held-out batches; fix: use more or longer texts, "
            "or a larger mlm_probability"
        )
    return MaskedLMScore(loss=total_loss / count, accuracy=sum(hits) / count, predictions=count, hits=tuple(hits))
