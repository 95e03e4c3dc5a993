"""The ML machinery: models, data, metrics, fine-tuning and its cache, evaluation, timing, hub access.

Knows nothing of claims files or verdicts: functions take plain values (a config mapping, a task, a recipe
table) and return numbers, predictions and checkpoints. torch, transformers and datasets are imported inside
functions, never at module import time.

May import: ``harness.core`` only.
"""
