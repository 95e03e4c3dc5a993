"""Speed claims: how long models take on a declared workload, timed in pairs.

The ``latency`` kind times every model that has a latency claim on the same workload in ONE paired,
interleaved run (``harness.ml.timing``), which those claims share through ``context.cached``. Each claim's
measurement carries bootstrap replicates drawn with the run's shared indices, so that a ratio formula over
two of them (``speed.a / speed.b``) gets the paired interval. Latency does not depend on trained weights:
models are built from their configurations with random weights.

The workload (``workload``) is the source's data when ``harness.ml.data`` finds it on this machine (a
GLUE-layout ``dev.tsv`` under ``--claims-data-dir``, or the datasets cache) and a tokenizer for it is found;
otherwise a synthetic workload whose token lengths the claims file declares. The measurement says which it
ran on. The paired run is ``paired``; the kind itself, with its FLOP sanity check, is ``kind``; the
``speedup`` kind (``speedup``) is a ratio of two models' times from the same run, with no absolute values.
"""

from harness.measure.kinds.latency.kind import latency
from harness.measure.kinds.latency.paired import PairedRun, paired, partner_models
from harness.measure.kinds.latency.speedup import speedup, speedup_of
from harness.measure.kinds.latency.workload import Inputs, Workload, make_inputs, parse_workload, synthetic_lengths

__all__ = [
    "Inputs",
    "PairedRun",
    "Workload",
    "latency",
    "make_inputs",
    "paired",
    "parse_workload",
    "partner_models",
    "speedup",
    "speedup_of",
    "synthetic_lengths",
]
