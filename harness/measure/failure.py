"""A claim whose measurement raised: the harness's own ERROR message, naming the claim, the stage and the fix.

Any exception out of a measurement (a transformers or torch traceback, a KeyError, a ValueError ...) becomes
an ``ERROR`` result, never a missing claim: the message names the claim, the stage it failed in (found from
the deepest harness frame of the traceback), the exception's type and message and, when the stage is known,
what to check. The full traceback goes into the result's details for debugging.
"""

from __future__ import annotations

import traceback
from types import TracebackType

from harness.core.errors import HarnessError
from harness.spec import Claim
from harness.verdict import ClaimResult

#: module prefix (or module.function) of the deepest harness frame -> (stage, what to check)
STAGES = (
    (
        "harness.ml.models",
        "loading the model or its config",
        "check the claim's [models.*] table: hub_id, "
        "auto_class (a model class such as AutoModel) and every [models.*.config] field against the config class",
    ),
    ("harness.ml.flop_probe", "loading the model or its config", "check the claim's [models.*] table and config"),
    (
        "harness.ml.data",
        "loading the data",
        "check the data files (--claims-data-dir): columns, labels and every value the task expects",
    ),
    ("harness.ml.tasks", "loading the data", "check the data files against the task's expected fields"),
    (
        "harness.ml.recipes",
        "reading the fine-tuning recipe",
        "check [recipes.*]: numbers without quotes, e.g. learning_rate = 5e-5",
    ),
    (
        "harness.ml.finetune_cache",
        "reading the fine-tuning cache",
        "delete the damaged cache entry named above (under --claims-cache-dir) and rerun",
    ),
    ("harness.ml.finetune", "fine-tuning", "check the recipe and the base checkpoint"),
    ("harness.ml.evaluation", "evaluating", "check the fine-tuned checkpoint and the evaluation data"),
    ("harness.ml.metrics", "evaluating", "check the evaluation data (labels, references)"),
    ("harness.ml.timing", "timing", "check the workload and the device"),
    ("harness.measure.kinds.latency", "timing", "check [claims.measure] of the speed claim and its workload"),
    ("harness.spec.formula", "evaluating the formula", "check the formula and its components' units"),
    ("harness.measure.measurement._measure_formula", "evaluating the formula", "check the formula and its components"),
    ("harness.measure.kinds", "measuring", "check the claim's [claims.measure] table"),
)


def stage_of(tb: TracebackType | None) -> tuple[str, str]:
    """(stage, hint) from the deepest frame of a harness module that is named in ``STAGES``."""
    found = ("measuring", "")
    for frame, _ in traceback.walk_tb(tb):
        module = str(frame.f_globals.get("__name__", ""))
        function = f"{module}.{frame.f_code.co_name}"
        for prefix, stage, hint in STAGES:
            if module == prefix or module.startswith(prefix + ".") or function == prefix:
                found = (stage, hint)
                break
    return found


def failure_message(claim_id: str, exc: BaseException) -> tuple[str, str]:
    """(one-paragraph message, full traceback text) for a measurement that raised ``exc``."""
    stage, hint = stage_of(exc.__traceback__)
    if isinstance(exc, HarnessError):
        text = str(exc)
    else:
        detail = str(exc) or "(no message)"
        text = f"{type(exc).__name__}: {detail}"
    message = f"claim {claim_id!r}: the measurement failed while {stage}: {text}"
    if hint and not isinstance(exc, HarnessError):
        message += f". Fix: {hint}"
    full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return message, full


def error_result(
    claim: Claim, nodeid: str, reproduce: str, reason: str, details: dict[str, object] | None = None
) -> ClaimResult:
    """The ERROR result of ``claim``: its definition, no verdict on the numbers, and why."""
    return ClaimResult(
        id=claim.id,
        nodeid=nodeid,
        verdict="ERROR",
        reason=reason,
        unit=claim.unit,
        claimed=claim.value,
        band=None,
        tolerance={
            "kind": claim.tolerance.kind,
            "value": claim.tolerance.value,
            "rationale": claim.tolerance.rationale,
        },
        provenance={
            "source": claim.source.reference,
            "version": claim.version,
            "location": claim.location,
            "quote": claim.quote,
        },
        details=dict(details or {}),
        reproduce=reproduce,
        claims_file=claim.path,
    )
