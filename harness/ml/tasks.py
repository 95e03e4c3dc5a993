"""The tasks a score can be measured on: GLUE's nine (and MNLI mismatched), IMDb, SQuAD v1.1 and v2.0, RACE.

SQuAD v2.0 (``squad_v2``, kind ``squad_v2``: unanswerable questions, scored by ``harness.ml.squad_v2``) and
RACE (``race``, kind ``multiple_choice``: four options per question, scored by accuracy) are task vocabulary:
claims on them are validated when the file loads (task, metric, split), and measuring them ends NOT_RUN until
the evaluation that predicts no-answer spans or picks among options exists (``EVALUATED_KINDS``).

A ``Task`` says how a data set looks in its own distribution (the GLUE download's TSV layout, aclImdb/,
dev-v1.1.json) and on the hub (dataset id, config, columns, label order), so that both give the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from harness.core.errors import MeasurementError, did_you_mean

if TYPE_CHECKING:
    import datasets


@attrs.frozen
class GlueFiles:
    """How a task's files look in the GLUE distribution (download_glue_data.py): folder, files, columns."""

    folder: str
    train: str = "train.tsv"
    eval: str = "dev.tsv"
    header: bool = True
    #: dataset column -> TSV column name (with a header) or index (without)
    columns: Mapping[str, str | int] = attrs.field(factory=dict)
    #: the label column's raw value for each label index (empty for regression: a float score)
    raw_labels: tuple[str, ...] = ()


@attrs.frozen
class Task:
    """A data set the harness can evaluate: its columns, labels, evaluation split and where it lives."""

    name: str
    kind: str  # "classification" | "regression" | "squad" | "squad_v2" | "multiple_choice"
    text_fields: tuple[str, ...]
    labels: tuple[str, ...]  # label names in the dataset's order ("" for regression)
    eval_split: str  # the split the score is reported on (hub split name)
    hub_id: str
    hub_config: str | None = None
    glue: GlueFiles | None = None
    #: other names a checkpoint's id2label may use for each label (lower case)
    aliases: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: the train and evaluation files (or folders) of its own distribution under --claims-data-dir, when not
    #: the GLUE, aclImdb or SQuAD v1.1 layout
    local_files: tuple[str, str] | None = None

    @property
    def num_labels(self) -> int:
        return 1 if self.kind == "regression" else len(self.labels)

    def hub_split(self, split: str) -> str:
        return "train" if split == "train" else self.eval_split


def _glue(
    name: str,
    config: str,
    kind: str,
    fields: tuple[str, ...],
    labels: tuple[str, ...],
    files: GlueFiles,
    eval_split: str = "validation",
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> Task:
    return Task(f"glue/{name}", kind, fields, labels, eval_split, "nyu-mll/glue", config, files, aliases or {})


def _mnli(name: str, genres: str) -> Task:
    """MNLI scored on its matched or mismatched dev set (the same training data)."""
    labels = ("entailment", "neutral", "contradiction")
    columns = {"premise": "sentence1", "hypothesis": "sentence2", "label": "gold_label"}
    files = GlueFiles("MNLI", eval=f"dev_{genres}.tsv", columns=columns, raw_labels=labels)
    return _glue(name, "mnli", "classification", ("premise", "hypothesis"), labels, files, f"validation_{genres}")


_BIN = ("0", "1")
_NLI = {"entailment": ("entailment", "entails"), "not_entailment": ("not_entailment", "not entailment")}
TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        # CoLA's files have no header: source, label, original judgement, sentence
        _glue(
            "cola",
            "cola",
            "classification",
            ("sentence",),
            ("unacceptable", "acceptable"),
            GlueFiles("CoLA", header=False, columns={"sentence": 3, "label": 1}, raw_labels=_BIN),
        ),
        _glue(
            "sst2",
            "sst2",
            "classification",
            ("sentence",),
            ("negative", "positive"),
            GlueFiles("SST-2", columns={"sentence": "sentence", "label": "label"}, raw_labels=_BIN),
            aliases={"negative": ("neg",), "positive": ("pos",)},
        ),
        _glue(
            "mrpc",
            "mrpc",
            "classification",
            ("sentence1", "sentence2"),
            ("not_equivalent", "equivalent"),
            GlueFiles(
                "MRPC",
                columns={"sentence1": "#1 String", "sentence2": "#2 String", "label": "Quality"},
                raw_labels=_BIN,
            ),
        ),
        _glue(
            "qqp",
            "qqp",
            "classification",
            ("question1", "question2"),
            ("not_duplicate", "duplicate"),
            GlueFiles(
                "QQP",
                columns={"question1": "question1", "question2": "question2", "label": "is_duplicate"},
                raw_labels=_BIN,
            ),
        ),
        _glue(
            "stsb",
            "stsb",
            "regression",
            ("sentence1", "sentence2"),
            ("",),
            GlueFiles("STS-B", columns={"sentence1": "sentence1", "sentence2": "sentence2", "label": "score"}),
        ),
        # MNLI's label is the last column, gold_label; the matched dev set is dev_matched.tsv
        _mnli("mnli", "matched"),
        # MNLI-mm: the same training data, scored on the mismatched dev set (other genres)
        _mnli("mnli_mm", "mismatched"),
        _glue(
            "qnli",
            "qnli",
            "classification",
            ("question", "sentence"),
            ("entailment", "not_entailment"),
            GlueFiles(
                "QNLI",
                columns={"question": "question", "sentence": "sentence", "label": "label"},
                raw_labels=("entailment", "not_entailment"),
            ),
            aliases=_NLI,
        ),
        _glue(
            "rte",
            "rte",
            "classification",
            ("sentence1", "sentence2"),
            ("entailment", "not_entailment"),
            GlueFiles(
                "RTE",
                columns={"sentence1": "sentence1", "sentence2": "sentence2", "label": "label"},
                raw_labels=("entailment", "not_entailment"),
            ),
            aliases=_NLI,
        ),
        _glue(
            "wnli",
            "wnli",
            "classification",
            ("sentence1", "sentence2"),
            ("not_entailment", "entailment"),
            GlueFiles(
                "WNLI", columns={"sentence1": "sentence1", "sentence2": "sentence2", "label": "label"}, raw_labels=_BIN
            ),
            aliases=_NLI,
        ),
        Task(
            "imdb",
            "classification",
            ("text",),
            ("neg", "pos"),
            "test",
            "stanfordnlp/imdb",
            aliases={"neg": ("negative",), "pos": ("positive",)},
        ),
        Task("squad_v1", "squad", ("question", "context"), (), "validation", "rajpurkar/squad"),
        # SQuAD v2.0: v1.1's questions plus unanswerable ones (an empty answer list); the official dev set
        Task(
            "squad_v2",
            "squad_v2",
            ("question", "context"),
            (),
            "validation",
            "rajpurkar/squad_v2",
            "squad_v2",
            local_files=("squad/train-v2.0.json", "squad/dev-v2.0.json"),
        ),
        # RACE (middle and high school exams, both): an article, a question, four options, the answer's letter
        Task(
            "race",
            "multiple_choice",
            ("article", "question", "options"),
            ("A", "B", "C", "D"),
            "test",
            "ehovy/race",
            "all",
            local_files=("RACE/train", "RACE/test"),
        ),
    )
}


#: evaluation-split sizes (the official dev/test sets), for power planning before any data is read
EVAL_EXAMPLES = {
    "glue/cola": 1043,
    "glue/sst2": 872,
    "glue/mrpc": 408,
    "glue/qqp": 40430,
    "glue/stsb": 1500,
    "glue/mnli": 9815,
    "glue/mnli_mm": 9832,
    "glue/qnli": 5463,
    "glue/rte": 277,
    "glue/wnli": 71,
    "imdb": 25000,
    "squad_v1": 10570,
    "squad_v2": 11873,
    "race": 4934,
}

#: task kinds the harness can evaluate a model on; claims on the others load but are NOT_RUN when measured
EVALUATED_KINDS = ("classification", "regression", "squad")


def task(name: str) -> Task:
    """The task called ``name`` (``glue/sst2``, ``imdb``, ``squad_v1`` ...); a ``MeasurementError`` otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise MeasurementError(
            f"unknown task {name!r}: expected one of {', '.join(TASKS)}.{did_you_mean(name, TASKS)}"
        ) from None


@attrs.frozen
class TaskData:
    """One split of a task, with the hub's columns, where it came from and a digest of its content."""

    task: Task
    split: str  # "train" | "eval"
    dataset: datasets.Dataset
    origin: str
    digest: str
    #: the data set repository and commit it came from, when known (a hub snapshot); None for local files
    repo_id: str | None = None
    revision: str | None = None
    #: the snapshot folder (hub cache, or a fetched copy) its parquet files were read from
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.dataset)
