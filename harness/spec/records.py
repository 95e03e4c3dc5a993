"""The claims language's records: a claims file, its source, models, claims, tolerances and metrics.

Frozen value objects, built by ``harness.spec.loader`` and read by every other layer; the field lists
here are the schema the loader checks keys against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from harness.core.errors import ClaimError
from harness.spec.formula import Formula

SCHEMA_VERSION = 1
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TOLERANCE_KINDS = ("absolute", "relative", "precision", "relative_or_precision", "lower_bound", "upper_bound")
METRICS = (
    "accuracy",
    "f1",
    "matthews_correlation",
    "pearson",
    "spearman",
    "acc_and_f1",
    "pearson_spearman_mean",
    "exact_match",
    "squad_f1",
)
TOP_LEVEL = ("schema_version", "source", "models", "workloads", "recipes", "claims")
SOURCE_FIELDS = ("key", "title", "authors", "reference", "version", "url", "date")
MODEL_FIELDS = ("hub_id", "released", "auto_class", "builder", "config_source", "config", "finetuned", "note")
CLAIM_FIELDS = (
    "id",
    "quote",
    "location",
    "version",
    "value",
    "unit",
    "precision",
    "formula",
    "comparable_on",
    "note",
    "metric",
    "conditions",
    "tolerance",
    "measure",
)
METRIC_FIELDS = ("name", "split", "assumption")
TOLERANCE_FIELDS = ("kind", "value", "rationale")
#: measure keys whose value names a file-level table entry
REFERENCE_KEYS = {"model": "models", "baseline": "models", "workload": "workloads", "recipe": "recipes"}
#: the longest chain of formulas over formulas (deriving and measuring a claim recurse along it)
MAX_FORMULA_CHAIN = 50

Scalar = str | int | float | bool


@attrs.frozen
class Source:
    """The paper (or report) the claims are quoted from."""

    key: str
    title: str
    reference: str
    version: str
    authors: tuple[str, ...] = ()
    url: str = ""


@attrs.frozen
class ModelSpec:
    """A model measurements refer to: where its checkpoint is found, and its configuration as a fallback."""

    name: str
    #: the checkpoint's Hugging Face id; None for a model whose weights were never released
    hub_id: str | None
    auto_class: str
    config_source: str
    config: Mapping[str, Any]
    finetuned: Mapping[str, str] = attrs.field(factory=dict)
    #: a registered model builder (``harness.ml.builders.BUILDERS``) or ``"package.module:function"``
    builder: str = "transformers"
    #: False: the weights were never published (weights claims are NOT_RUN; architecture claims still run)
    released: bool = True


@attrs.frozen
class Tolerance:
    """The band around a claimed value inside which a measurement reproduces it (fixed before any run)."""

    kind: str
    value: float
    rationale: str


@attrs.frozen
class Metric:
    """Which metric a task score is, on which split, and the assumption made where the source is silent."""

    name: str
    split: str
    assumption: str = ""


@attrs.frozen
class MeasureSpec:
    """How the harness measures a claim: a registered kind and its kind-specific parameters."""

    kind: str
    params: Mapping[str, Any]


@attrs.frozen
class Claim:
    """One quantitative claim: the stated number, its provenance, conditions and tolerance."""

    id: str
    quote: str
    location: str
    version: str
    value: float
    unit: str
    precision: float
    tolerance: Tolerance
    path: str
    source: Source
    value_is_derived: bool = False
    formula: Formula | None = None
    comparable_on: tuple[str, ...] = ()
    conditions: Mapping[str, Scalar] = attrs.field(factory=dict)
    metric: Metric | None = None
    measure: MeasureSpec | None = None
    note: str = ""

    @property
    def provenance(self) -> str:
        """One line: the source, its version and where in it the claim is."""
        return f'{self.source.reference} {self.version}, {self.location}: "{self.quote}"'


@attrs.frozen
class InvalidRecord:
    """A record (or a whole file) that could not be loaded; it becomes one failing test item."""

    name: str
    error: ClaimError


@attrs.frozen
class ClaimsFile:
    """A loaded claims file: its valid claims, and the problems found in it."""

    path: str
    source: Source | None
    models: Mapping[str, ModelSpec]
    workloads: Mapping[str, Mapping[str, Any]]
    recipes: Mapping[str, Mapping[str, Any]]
    claims: tuple[Claim, ...]
    invalid: tuple[InvalidRecord, ...]

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)
