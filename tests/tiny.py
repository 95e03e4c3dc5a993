"""Tiny stand-ins for the task chain, made at test time: nothing is downloaded.

- a WordPiece tokenizer over the generated sentences' words and characters (a fixed vocabulary), wrapped as a
  transformers fast tokenizer and saved with ``save_pretrained``;
- tiny BERT and DistilBERT configurations (hidden 32, 2 layers, vocabulary 200) saved as checkpoints the
  harness loads through the same code as real ones;
- GLUE (all nine tasks, each in the GLUE distribution's own column layout), aclImdb and SQuAD v1.1 files;
- a claims file over them. Its task claims say ``smoke = true``: these models are stand-ins.

The data is learnable (a sentiment word decides SST-2, the overlap of two sentences decides STS-B, the
answer follows a fixed phrase in SQuAD), so a fine-tuned tiny model does better than chance.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

# Imported when the tests are collected, before any test runs: an in-process pytester run (in any test file)
# drops the modules first imported inside it, and neither torch's operator libraries (which Trainer's imports
# register) nor transformers' lazily loaded model modules can be imported a second time in one process.
import datasets  # noqa: F401
import transformers.models.auto.tokenization_auto  # noqa: F401
import transformers.models.bert.modeling_bert  # noqa: F401
import transformers.models.distilbert.modeling_distilbert  # noqa: F401
import transformers.tokenization_utils_tokenizers  # noqa: F401
import transformers.trainer  # noqa: F401

from harness.measure.measurement import Options

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB = 200
N_EXAMPLES = 64
TINY_BERT = {
    "model_type": "bert",
    "vocab_size": VOCAB,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "pad_token_id": 0,
}
TINY_DISTILBERT = {
    "model_type": "distilbert",
    "vocab_size": VOCAB,
    "dim": 32,
    "n_layers": 2,
    "n_heads": 2,
    "hidden_dim": 64,
    "max_position_embeddings": 128,
    "pad_token_id": 0,
}
#: hub-style ids of the tiny checkpoints under the models dir
BERT_ID, DISTILBERT_ID, PUBLISHED_ID = "tiny/bert", "tiny/distilbert", "tiny/distilbert-sst2"

POSITIVE = "good great fine lovely nice superb".split()
NEGATIVE = "bad awful poor dull ugly boring".split()
FILLER = "the a movie film plot was is very quite and but it this story actor scene".split()
PLACES = "paris rome oslo lima cairo delhi tokyo quito".split()
COUNTRIES = "france italy norway peru egypt india japan ecuador".split()


def _sentence(rng: random.Random, word: str) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(3, 12))]
    words.insert(rng.randrange(len(words) + 1), word)
    return " ".join(words)


def sentiment(rng: random.Random, n: int) -> list[tuple[str, int]]:
    return [(_sentence(rng, rng.choice(POSITIVE if i % 2 else NEGATIVE)), i % 2) for i in range(n)]


def pairs(rng: random.Random, n: int) -> list[tuple[str, str, int]]:
    """Sentence pairs; label 1 when both carry the same key word."""
    out = []
    for i in range(n):
        a, b = rng.sample(POSITIVE + NEGATIVE, 2)
        out.append((_sentence(rng, a), _sentence(rng, a if i % 2 else b), i % 2))
    return out


def squad_articles(rng: random.Random, n: int) -> list[dict[str, Any]]:
    paragraphs = []
    for i in range(n):
        country, place = COUNTRIES[i % len(COUNTRIES)], PLACES[(i * 3 + rng.randrange(8)) % len(PLACES)]
        prefix = " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 8)))
        context = f"{prefix} the capital of {country} is {place} . {_sentence(rng, rng.choice(POSITIVE))}"
        paragraphs.append(
            {
                "context": context,
                "qas": [
                    {
                        "id": f"q{i}",
                        "question": f"what is the capital of {country} ?",
                        "answers": [{"text": place, "answer_start": context.index(f" is {place}") + 4}],
                    }
                ],
            }
        )
    return [{"title": "capitals", "paragraphs": paragraphs}]


def corpus(rng: random.Random) -> list[str]:
    words = POSITIVE + NEGATIVE + FILLER + PLACES + COUNTRIES + "what capital of ? .".split()
    return [" ".join(rng.sample(words, 8)) for _ in range(400)]


# ---------------------------------------------------------------- data files in their distributions' layouts


def _tsv(path: Path, rows: list[list[Any]], header: list[str] | None, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (["\t".join(header)] if header else []) + ["\t".join(str(c) for c in row) for row in rows]
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")


def write_glue(root: Path, n: int = N_EXAMPLES, seed: int = 0) -> Path:
    """All nine GLUE tasks under ``root/glue/<TASK>/`` (train.tsv, dev.tsv; MNLI dev_matched.tsv)."""
    rng = random.Random(seed)
    glue = root / "glue"
    nli = ("entailment", "neutral", "contradiction")
    for split in ("train", "dev"):
        s = sentiment(rng, n)
        p = pairs(rng, n)
        _tsv(glue / "CoLA" / f"{split}.tsv", [[f"src{i}", y, "" if y else "*", t] for i, (t, y) in enumerate(s)], None)
        _tsv(glue / "SST-2" / f"{split}.tsv", [[t, y] for t, y in s], ["sentence", "label"])
        _tsv(
            glue / "MRPC" / f"{split}.tsv",
            [[y, 100 + i, 200 + i, a, b] for i, (a, b, y) in enumerate(p)],
            ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
            bom=True,
        )
        _tsv(
            glue / "QQP" / f"{split}.tsv",
            [[i, 2 * i, 2 * i + 1, a, b, y] for i, (a, b, y) in enumerate(p)],
            ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
        )
        sts = [
            [i, "main-news", "f", "2012", i, "s1", "s2", a, b, f"{(len(set(a.split()) & set(b.split())) / 3):.3f}"]
            for i, (a, b, _) in enumerate(p)
        ]
        _tsv(
            glue / "STS-B" / f"{split}.tsv",
            sts,
            [
                "index",
                "genre",
                "filename",
                "year",
                "old_index",
                "source1",
                "source2",
                "sentence1",
                "sentence2",
                "score",
            ],
        )
        labels = ["label1"] if split == "train" else ["label1", "label2", "label3", "label4", "label5"]
        mnli = [
            [
                i,
                i,
                f"{i}e",
                "fiction",
                "(a)",
                "(b)",
                "(ROOT a)",
                "(ROOT b)",
                a,
                b,
                *([nli[i % 3]] * len(labels)),
                nli[i % 3],
            ]
            for i, (a, b, _) in enumerate(p)
        ]
        _tsv(
            glue / "MNLI" / ("train.tsv" if split == "train" else "dev_matched.tsv"),
            mnli,
            [
                "index",
                "promptID",
                "pairID",
                "genre",
                "sentence1_binary_parse",
                "sentence2_binary_parse",
                "sentence1_parse",
                "sentence2_parse",
                "sentence1",
                "sentence2",
                *labels,
                "gold_label",
            ],
        )
        two = ("entailment", "not_entailment")
        _tsv(
            glue / "QNLI" / f"{split}.tsv",
            [[i, a, b, two[y]] for i, (a, b, y) in enumerate(p)],
            ["index", "question", "sentence", "label"],
        )
        _tsv(
            glue / "RTE" / f"{split}.tsv",
            [[i, a, b, two[y]] for i, (a, b, y) in enumerate(p)],
            ["index", "sentence1", "sentence2", "label"],
        )
        _tsv(
            glue / "WNLI" / f"{split}.tsv",
            [[i, a, b, y] for i, (a, b, y) in enumerate(p)],
            ["index", "sentence1", "sentence2", "label"],
        )
    return root


def write_imdb(root: Path, n: int = N_EXAMPLES, seed: int = 1) -> Path:
    rng = random.Random(seed)
    for split in ("train", "test"):
        for i, (text, label) in enumerate(sentiment(rng, n)):
            path = root / "aclImdb" / split / ("pos" if label else "neg") / f"{i}_{7 if label else 2}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + " <br /><br /> " + text, encoding="utf-8")
    return root


def write_squad(root: Path, n: int = N_EXAMPLES, seed: int = 2) -> Path:
    rng = random.Random(seed)
    for name in ("train-v1.1.json", "dev-v1.1.json"):
        path = root / "squad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"version": "1.1", "data": squad_articles(rng, n)}), encoding="utf-8")
    return root


def write_data(root: Path) -> Path:
    """Every data set the harness reads, under ``root`` (the layout --claims-data-dir expects)."""
    return write_squad(write_imdb(write_glue(root)))


# ---------------------------------------------------------------- tokenizer and checkpoints


def tokenizer(token_type_ids: bool) -> Any:
    """A WordPiece tokenizer (BERT-style normalization and [CLS]/[SEP] template) over the tiny corpus."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer, pre_tokenizer = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    # The vocabulary is written out, not trained: tokenizers' WordPieceTrainer numbers tied tokens in the
    # order of a Rust hash map, so each process got other ids (and other tiny-model numbers). Every word of
    # the corpus, each of its characters alone and as a "##" continuation, sorted: the same ids every time.
    words: set[str] = set()
    for text in corpus(random.Random(3)):
        words.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    chars = sorted({c for w in words for c in w})
    vocab = list(dict.fromkeys([*SPECIAL, *chars, *(f"##{c}" for c in chars), *sorted(words)]))
    if len(vocab) > VOCAB:
        raise ValueError(f"the tiny corpus needs {len(vocab)} tokens; raise VOCAB ({VOCAB})")
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.decoder = decoders.WordPiece()
    names = ["input_ids", "token_type_ids", "attention_mask"] if token_type_ids else ["input_ids", "attention_mask"]
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_input_names=names,
        model_max_length=128,
    )


def save_checkpoint(
    path: Path, config: dict[str, Any], head: str = "AutoModel", seed: int = 0, **config_overrides: Any
) -> Path:
    """Random weights of ``config`` (with a head) and its tokenizer, saved like a Hub checkpoint."""
    import torch
    import transformers

    from harness.ml.models import build_config

    torch.manual_seed(seed)
    cfg = build_config({**config, **config_overrides})
    getattr(transformers, head).from_config(cfg).save_pretrained(path)
    tokenizer(token_type_ids=config["model_type"] == "bert").save_pretrained(path)
    return path


def write_models(models_dir: Path) -> Path:
    """Base checkpoints tiny/bert and tiny/distilbert, and a 'published' fine-tuned tiny/distilbert-sst2."""
    save_checkpoint(models_dir / BERT_ID, TINY_BERT)
    save_checkpoint(models_dir / DISTILBERT_ID, TINY_DISTILBERT)
    save_checkpoint(
        models_dir / PUBLISHED_ID,
        TINY_DISTILBERT,
        head="AutoModelForSequenceClassification",
        seed=1,
        num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    return models_dir


# ---------------------------------------------------------------- a claims file over the tiny models


def formula_claim(
    cid: str, formula: str, dataset: str, unit: str = "percent", value: float = 100.0, width: float = 100.0
) -> str:
    return f"""
[[claims]]
id = "{cid}"
quote = "tiny stand-in claim"
location = "tests"
value = {value}
unit = "{unit}"
precision = 1
formula = "{formula}"
comparable_on = ["dataset", "split"]
[claims.conditions]
dataset = "{dataset}"
split = "validation"
[claims.tolerance]
kind = "absolute"
value = {width}
rationale = "a wide band: the tiny chain checks the machinery, not a number"
"""


def _toml_table(values: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())


RECIPE = {
    "max_length": 64,
    "batch_size": 16,
    "learning_rate": 1e-2,
    "epochs": 4,
    "warmup_ratio": 0.1,
    "seeds": [1, 2],
    "aggregate": "median",
}


def claim(
    cid: str,
    model: str,
    task: str,
    metric: str,
    *,
    recipe: str | None = "tiny_glue",
    split: str = "validation",
    value: float = 50.0,
    width: float = 50.0,
) -> str:
    """A task_score claim over a tiny model, declared smoke evidence."""
    dataset = task
    measure = {"kind": "task_score", "model": model, "task": task, "smoke": True}
    if recipe:
        measure["recipe"] = recipe
    return f"""
[[claims]]
id = "{cid}"
quote = "tiny stand-in claim"
location = "tests"
value = {value}
unit = "points"
precision = 0.1
comparable_on = ["dataset", "split"]
[claims.metric]
name = "{metric}"
split = "{split}"
[claims.conditions]
dataset = "{dataset}"
split = "{split}"
[claims.tolerance]
kind = "absolute"
value = {width}
rationale = "a wide band: the tiny chain checks the machinery, not a number"
[claims.measure]
{_toml_table(measure)}
"""


def claims_header(recipe: dict[str, Any] | None = None, published: str = PUBLISHED_ID) -> str:
    """The models (tiny/bert, tiny/distilbert with a published SST-2 checkpoint) and recipes of a tiny claims file."""
    return f"""schema_version = 1
[source]
key = "tiny"
title = "tiny stand-ins"
reference = "tests"
version = "v1"

[models.tiny_bert]
hub_id = "{BERT_ID}"
config_source = "tests/tiny.py"
[models.tiny_bert.config]
{_toml_table(TINY_BERT)}

[models.tiny_distilbert]
hub_id = "{DISTILBERT_ID}"
config_source = "tests/tiny.py"
[models.tiny_distilbert.config]
{_toml_table(TINY_DISTILBERT)}
[models.tiny_distilbert.finetuned]
"glue/sst2" = "{published}"

[recipes.tiny_glue]
{_toml_table(recipe or RECIPE)}

[recipes.tiny_single]
{_toml_table({**(recipe or RECIPE), "seeds": [1], "aggregate": "single"})}

[recipes.tiny_squad]
{
        _toml_table(
            {
                **(recipe or RECIPE),
                "max_length": 48,
                "doc_stride": 16,
                "max_query_length": 16,
                "max_answer_length": 5,
                "seeds": [1],
                "aggregate": "single",
                "epochs": 3,
            }
        )
    }
"""


def finetune_once(
    cache_dir: str | Path,
    models_dir: str | Path,
    data_dir: str | Path,
    seed: int = 1,
    recipe: dict[str, Any] | None = None,
) -> Any:
    """Fine-tune tiny/bert on SST-2 through the cache, as the task measurement does; the cache ``Entry``."""
    from harness.ml import data
    from harness.ml.evaluation import Runtime
    from harness.ml.finetune_cache import checkpoint_digest, fine_tuned
    from harness.ml.recipes import recipe as resolve

    task = data.task("glue/sst2")
    options = Options(models_dir=Path(models_dir), data_dir=Path(data_dir), cache_dir=Path(cache_dir))
    base = Path(models_dir) / BERT_ID
    return fine_tuned(
        Path(cache_dir),
        "glue-sst2-tiny_bert",
        base,
        checkpoint_digest(base),
        data.load(task, "train", options),
        resolve({"r": recipe or RECIPE}, "r", task),
        seed,
        Runtime("cpu"),
    )


def distillation_configs() -> tuple[Any, Any]:
    """A tiny 4-layer BERT teacher and a 2-layer DistilBERT student of the same width, for distillation tests."""
    import transformers

    teacher = transformers.BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    student = transformers.DistilBertConfig(
        vocab_size=VOCAB, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=128
    )
    return teacher, student
