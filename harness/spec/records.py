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
from harness.spec.heads import HeadConvention
from harness.spec.inequality import Inequality
from harness.spec.pins import DatasetSpec, HubPin

SCHEMA_VERSION = 1
#: ids and names: match them with ``fullmatch`` (``\A`` and ``\Z``: a ``$`` would accept a trailing newline)
ID_PATTERN = re.compile(r"\A[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")
NAME_PATTERN = re.compile(r"\A[a-z][a-z0-9_]*\Z")
TOLERANCE_KINDS = (
    "absolute",
    "relative",
    "precision",
    "relative_or_precision",
    "lower_bound",
    "upper_bound",
    "sign",
    "order",
)
#: the sign a band may be cut at (``tolerance.sign``): the value must be strictly below / above zero
SIGNS = ("negative", "positive")
#: who derived a claim's value: the source itself, or the harness (arithmetic the source never printed)
DERIVED_BY = ("paper", "harness")
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
    # SQuAD v2.0 (harness.ml.squad_v2): overall, answerable (HasAns) and unanswerable (NoAns) questions
    "squad_v2_exact",
    "squad_v2_f1",
    "has_ans_exact",
    "has_ans_f1",
    "no_ans_exact",
    "no_ans_f1",
)
TOP_LEVEL = (
    "schema_version",
    "source",
    "models",
    "datasets",
    "hub_aliases",
    "workloads",
    "recipes",
    "synonyms",
    "uncertainty",
    "claims",
)
SOURCE_FIELDS = ("key", "title", "authors", "reference", "version", "url", "date")
MODEL_FIELDS = (
    "hub_id",
    "released",
    "revision",
    "size_bytes",
    "auto_class",
    "builder",
    "config_source",
    "config",
    "finetuned",
    "note",
)
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
    "headline",
    "metric",
    "conditions",
    "tolerance",
    "measure",
    "paper_value",
    "alternatives",
    "derived_by",
    "inequalities",
    "stated",
    "scale",
    "budget",
)
#: ``scale = "reduced"``: the claim is checked on a smaller run than the paper's (its ``budget`` says how small)
SCALES = ("paper", "reduced")
METRIC_FIELDS = ("name", "split", "assumption")
TOLERANCE_FIELDS = ("kind", "value", "rationale", "sign")
ALTERNATIVE_FIELDS = ("value", "source")
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
    #: the base checkpoint's pin (``revision``, ``size_bytes``; harness.spec.pins)
    pin: HubPin | None = None
    #: per task, the published checkpoint's pin (its hub id is also in ``finetuned``)
    finetuned_pins: Mapping[str, HubPin] = attrs.field(factory=dict)
    #: per task, the published checkpoint's declared head conventions (label order, output scale)
    finetuned_heads: Mapping[str, HeadConvention] = attrs.field(factory=dict)
    #: False: the weights were never published (weights claims are NOT_RUN; architecture claims still run)
    released: bool = True

    @property
    def revision(self) -> str | None:
        return self.pin.revision if self.pin is not None else None


@attrs.frozen
class Tolerance:
    """The band around a claimed value inside which a measurement reproduces it (fixed before any run)."""

    kind: str
    value: float
    rationale: str
    #: "negative" / "positive": the band is cut at zero (strictly), so the opposite sign never reproduces
    sign: str | None = None


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
class Alternative:
    """Another value the source may have meant (a likely typo, a second printing), with where it comes from."""

    value: float
    source: str


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
    #: an abstract-level claim: the report opens with these (``headline = true``)
    headline: bool = False
    #: the source's own point value behind a one-sided reading (shown next to the verdict, never deciding it)
    paper_value: float | None = None
    alternatives: tuple[Alternative, ...] = ()
    #: "harness" when the claimed value is the harness's own arithmetic on stated numbers (kept out of the tally)
    derived_by: str = "paper"
    #: an ordering claim: inequalities between claims, each side a formula (``harness.spec.inequality``)
    inequalities: tuple[Inequality, ...] = ()
    #: claims an ordering uses at the source's stated value (± precision/2) rather than measured
    stated: tuple[str, ...] = ()
    #: "paper", or "reduced": a verdict about the direction and order of effects at ``budget``, not magnitudes
    scale: str = "paper"
    budget: str = ""

    @property
    def references(self) -> tuple[str, ...]:
        """The claim ids this claim is computed from: its formula's, or its inequalities' (first use order)."""
        names = list(self.formula.names if self.formula else ())
        for inequality in self.inequalities:
            names.extend(inequality.names)
        return tuple(dict.fromkeys(names))

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
    #: ``[synonyms.<condition>]``: a claimed value -> the measured values accepted for it
    synonyms: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(factory=dict)
    #: ``[hub_aliases]``: old hub id -> the id it moved to (both are looked up)
    hub_aliases: Mapping[str, str] = attrs.field(factory=dict)
    #: ``[datasets.<name>]`` pins of data set repositories (harness.spec.pins)
    datasets: Mapping[str, DatasetSpec] = attrs.field(factory=dict)
    #: declared seed SDs per task (``[uncertainty.seed_sd]``, harness.spec.uncertainty.SeedSD)
    seed_sd: Mapping[str, Any] = attrs.field(factory=dict)
    #: claims of other files its formulas name (``stem::id`` -> the claim, with its own path and source, as a
    #: stated component) and those files by stem (harness.spec.references)
    references: Mapping[str, Claim] = attrs.field(factory=dict)
    referenced_files: Mapping[str, ClaimsFile] = attrs.field(factory=dict)

    def claim(self, claim_id: str) -> Claim:
        """The claim ``claim_id`` of this file, or the referenced claim ``stem::id`` of another."""
        if claim_id in self.references:
            return self.references[claim_id]
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)
