"""Task data from local files in each distribution's own layout, and NOT_RUN when it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny

from harness.core.errors import MeasurementError, NotRunError
from harness.measure.measurement import Options
from harness.ml import data

pytestmark = pytest.mark.fast

GLUE = (
    "glue/cola",
    "glue/sst2",
    "glue/mrpc",
    "glue/qqp",
    "glue/stsb",
    "glue/mnli",
    "glue/qnli",
    "glue/rte",
    "glue/wnli",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny.write_data(tmp_path_factory.mktemp("data"))


def _options(data_dir: Path | None, source: str = "auto") -> Options:
    return Options(data_dir=data_dir, data_source=source)


@pytest.mark.parametrize("name", GLUE)
@pytest.mark.parametrize("split", ["train", "eval"])
def test_every_glue_task_loads_with_the_hub_columns(data_dir, name, split):
    task = data.task(name)
    loaded = data.load(task, split, _options(data_dir))
    assert loaded.dataset.column_names == [*task.text_fields, "label"]
    assert len(loaded) == tiny.N_EXAMPLES
    labels = list(loaded.dataset["label"])
    if task.kind == "regression":
        assert all(0.0 <= v <= 5.0 for v in labels) and len(set(labels)) > 1
    else:
        assert set(labels) == set(range(task.num_labels))
    assert loaded.origin.startswith("local files ") and str(data_dir) in loaded.origin
    assert all(isinstance(t, str) and t for f in task.text_fields for t in loaded.dataset[f])


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_glue_column_layouts_and_label_orders(tmp_path):
    """Hand-written rows in each tricky layout map to the hub's columns and label indices."""
    glue = tmp_path / "glue"
    _write(
        glue / "CoLA" / "dev.tsv", "gj04\t1\t\tOur friends won't buy this analysis.\nclc95\t0\t*\tThe more we study.\n"
    )
    _write(
        glue / "MRPC" / "dev.tsv",
        '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said "so".\tHe said so.\n',
    )
    mnli_header = (
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
        "sentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
    )
    rows = "".join(
        f"{i}\t1\t1e\tfiction\t(a)\t(b)\t(A)\t(B)\tP{i}\tH{i}\t" + "\t".join([g] * 6) + "\n"
        for i, g in enumerate(("contradiction", "entailment", "neutral"))
    )
    _write(glue / "MNLI" / "dev_matched.tsv", mnli_header + rows)
    _write(glue / "QNLI" / "dev.tsv", "index\tquestion\tsentence\tlabel\n0\tWhy?\tBecause.\tnot_entailment\n")
    _write(glue / "WNLI" / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n")
    _write(
        glue / "STS-B" / "dev.tsv",
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
        "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man.\tA guy.\t4.750\n",
    )
    options = _options(tmp_path)

    cola = data.load(data.task("glue/cola"), "eval", options).dataset  # no header: all rows are examples
    assert list(cola["sentence"]) == ["Our friends won't buy this analysis.", "The more we study."]
    assert list(cola["label"]) == [1, 0]
    mrpc = data.load(data.task("glue/mrpc"), "eval", options).dataset  # BOM before the header; quotes kept
    assert mrpc[0] == {"sentence1": 'He said "so".', "sentence2": "He said so.", "label": 1}
    mnli = data.load(data.task("glue/mnli"), "eval", options).dataset  # gold_label; hub order e/n/c
    assert list(mnli["label"]) == [2, 0, 1] and list(mnli["premise"]) == ["P0", "P1", "P2"]
    assert data.load(data.task("glue/qnli"), "eval", options).dataset[0]["label"] == 1
    assert data.load(data.task("glue/wnli"), "eval", options).dataset[0]["label"] == 1
    stsb = data.load(data.task("glue/stsb"), "eval", options).dataset
    assert stsb[0] == {"sentence1": "A man.", "sentence2": "A guy.", "label": pytest.approx(4.75)}


def test_malformed_lines_are_skipped_and_counted_and_unknown_labels_refused(tmp_path):
    _write(tmp_path / "glue" / "SST-2" / "dev.tsv", "sentence\tlabel\ngood film\t1\nbroken line\nbad film\t0\n")
    loaded = data.load(data.task("glue/sst2"), "eval", _options(tmp_path))
    assert len(loaded) == 2 and "(1 malformed lines skipped)" in loaded.origin
    _write(tmp_path / "glue" / "RTE" / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n")
    with pytest.raises(MeasurementError, match="unknown label values \\['maybe'\\]"):
        data.load(data.task("glue/rte"), "eval", _options(tmp_path))
    _write(tmp_path / "glue" / "QQP" / "dev.tsv", "id\tq1\tq2\n")
    with pytest.raises(MeasurementError, match="no column 'question1'"):
        data.load(data.task("glue/qqp"), "eval", _options(tmp_path))


def test_imdb_folder_and_squad_json(data_dir):
    imdb = data.load(data.task("imdb"), "eval", _options(data_dir))
    assert imdb.dataset.column_names == ["text", "label"]
    assert sorted(set(imdb.dataset["label"])) == [0, 1] and len(imdb) == tiny.N_EXAMPLES
    assert "aclImdb/test" in imdb.origin
    squad = data.load(data.task("squad_v1"), "eval", _options(data_dir))
    assert squad.dataset.column_names == ["id", "title", "context", "question", "answers"]
    row = squad.dataset[0]
    start = row["answers"]["answer_start"][0]
    answer = row["answers"]["text"][0]
    assert row["context"][start : start + len(answer)] == answer


def test_digest_follows_the_content(tmp_path):
    _write(tmp_path / "glue" / "SST-2" / "dev.tsv", "sentence\tlabel\ngood\t1\n")
    first = data.load(data.task("glue/sst2"), "eval", _options(tmp_path)).digest
    assert data.load(data.task("glue/sst2"), "eval", _options(tmp_path)).digest == first
    _write(tmp_path / "glue" / "SST-2" / "dev.tsv", "sentence\tlabel\ngood\t0\n")
    assert data.load(data.task("glue/sst2"), "eval", _options(tmp_path)).digest != first


def test_missing_local_data_is_not_run_with_the_exact_path(tmp_path):
    with pytest.raises(NotRunError) as info:
        data.load(data.task("glue/sst2"), "eval", _options(tmp_path, "local"))
    assert str(tmp_path / "glue" / "SST-2" / "dev.tsv") in info.value.reason
    assert info.value.remedy == "--claims-data-dir DIR (or CLAIMS_DATA_DIR=DIR) with DIR/glue/SST-2/dev.tsv"
    with pytest.raises(NotRunError, match="no --claims-data-dir") as info:
        data.load(data.task("imdb"), "train", _options(None, "local"))
    assert "DIR/aclImdb/train/{pos,neg}/*.txt" in info.value.remedy


def test_hub_source_offline_and_not_cached_is_not_run(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(NotRunError) as info:
        data.load(data.task("glue/mnli"), "eval", _options(tmp_path, "hub"))
    assert "nyu-mll/glue (mnli) split 'validation_matched' is not available" in info.value.reason
    assert "DIR/glue/MNLI/dev_matched.tsv" in info.value.remedy
    assert "hf download nyu-mll/glue --repo-type dataset --include 'mnli/*'" in info.value.remedy


def test_hub_source_ignores_local_files(data_dir):
    with pytest.raises(NotRunError, match="is not available"):
        data.load(data.task("glue/sst2"), "eval", _options(data_dir, "hub"))


def test_stsb_validation_pairs_for_timing_workloads(data_dir):
    pairs, origin = data.stsb_validation_pairs(_options(data_dir))
    assert len(pairs) == tiny.N_EXAMPLES and all(isinstance(a, str) and isinstance(b, str) for a, b in pairs)
    assert origin.endswith("glue/STS-B/dev.tsv")
    with pytest.raises(NotRunError, match="STS-B/dev.tsv"):
        data.stsb_validation_pairs(_options(None, "local"))


def test_unknown_task_and_source_are_errors():
    with pytest.raises(MeasurementError, match="unknown task 'glue/sst-2'.*Did you mean 'glue/sst2'"):
        data.task("glue/sst-2")
    with pytest.raises(MeasurementError, match="data source 'web'"):
        data.load(data.task("imdb"), "eval", _options(None, "web"))
