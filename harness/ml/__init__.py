"""The ML machinery: models, data, metrics, training, timing, hub access. Knows nothing of claims files or verdicts."""
