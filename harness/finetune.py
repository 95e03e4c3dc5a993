"""Fine-tuning recipes, fine-tuning with transformers' Trainer, and the on-disk cache of fine-tuned models.

A recipe (``[recipes.<name>]`` of a claims file) fixes what a fine-tuned model is: learning rate, batch size,
epochs, maximum length, warm-up, weight decay, seeds and how scores over seeds are aggregated (the median of
5 seeds is ``seeds = [...5 seeds...]``, ``aggregate = "median"``); ``overrides."<task>"`` tables change keys
for one task and ``base = "<recipe>"`` inherits another recipe. Training uses ``Trainer``, so the same code
runs on one CPU, one GPU, or several GPUs under ``torchrun``/``accelerate launch`` (the recipe's batch size is
the total over processes).

Cache: a fine-tuned model lives in ``<cache_dir>/finetuned/<name>-<key>/`` where the key hashes everything
that determines it (the base checkpoint's files, the training data, the recipe, the seed, the device kind and
precision, the library versions). Building an entry holds a file lock, so pytest-xdist workers wait for one
another instead of training the same model twice; it trains into a temporary directory next to the entry,
writes the manifest (file sizes and SHA-256) last and renames the directory into place, so a killed run never
leaves an entry that a later run would serve: the next run removes the leftovers and rebuilds. Every entry is
checked against its manifest before use; a damaged one is an error that says what to delete.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from harness.errors import MeasurementError, NotRunError, did_you_mean
from harness.results import atomic_write_text

if TYPE_CHECKING:
    from harness.data import Task, TaskData
    from harness.evaluation import Runtime

MANIFEST = "harness-manifest.json"
LOG = "trainings.jsonl"
AGGREGATES = ("median", "mean", "single")
#: recipe keys that describe it for people; they do not change the fine-tuned model
INFO_KEYS = ("description", "script", "source", "assumed", "dataset", "text_field")
TRAIN_KEYS = (
    "max_length",
    "batch_size",
    "learning_rate",
    "epochs",
    "warmup_ratio",
    "warmup_steps",
    "weight_decay",
    "truncation",
    "doc_stride",
    "max_query_length",
    "max_answer_length",
)
#: keys of distillation fine-tuning (a teacher's soft targets): described, not implemented here
DISTILL_KEYS = ("teacher", "teacher_task", "temperature", "alpha_ce", "alpha_squad")
RECIPE_KEYS = (*INFO_KEYS, *TRAIN_KEYS, *DISTILL_KEYS, "seeds", "aggregate", "overrides", "base")
#: files of a checkpoint that determine the model and its tokenization (hashed for the cache key)
CHECKPOINT_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model")


@attrs.frozen
class Recipe:
    """A fine-tuning recipe resolved for one task (base recipe and task overrides applied)."""

    name: str
    task: str
    max_length: int
    batch_size: int
    learning_rate: float
    epochs: float
    seeds: tuple[int, ...]
    aggregate: str
    warmup: float = 0.0  # a fraction of the training steps below 1, else a number of steps
    weight_decay: float = 0.0
    truncation: str = "head"
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    teacher: str | None = None
    source: str = ""

    def training_fields(self) -> dict[str, Any]:
        """What determines a fine-tuned model (the cache key's recipe part): no seeds, no descriptions."""
        fields = attrs.asdict(self)
        for key in ("name", "seeds", "aggregate", "source"):
            fields.pop(key)
        return fields

    def describe(self) -> str:
        seeds = ", ".join(str(s) for s in self.seeds)
        return (
            f"recipe {self.name} (lr {self.learning_rate:g}, batch {self.batch_size}, {self.epochs:g} epochs, "
            f"max length {self.max_length}, seed(s) {seeds}, {self.aggregate})"
        )


def _merged(tables: Mapping[str, Mapping[str, Any]], name: str, trail: tuple[str, ...] = ()) -> dict[str, Any]:
    if name not in tables:
        raise MeasurementError(f"no [recipes.{name}] in the claims file.{did_you_mean(name, tables)}")
    if name in trail:
        raise MeasurementError(f"[recipes.{name}]: its `base` chain loops ({' -> '.join((*trail, name))})")
    table = dict(tables[name])
    unknown = [k for k in table if k not in RECIPE_KEYS]
    if unknown:
        raise MeasurementError(
            f"[recipes.{name}]: unknown key {unknown[0]!r}; known keys: {', '.join(RECIPE_KEYS)}."
            + did_you_mean(unknown[0], RECIPE_KEYS)
        )
    base = table.pop("base", None)
    if base is None:
        return table
    merged = _merged(tables, str(base), (*trail, name))
    overrides = {**merged.get("overrides", {}), **table.pop("overrides", {})}
    return {**merged, **table, "overrides": overrides}


def recipe(tables: Mapping[str, Mapping[str, Any]], name: str, task: Task) -> Recipe:
    """The recipe ``name`` resolved for ``task``; a ``MeasurementError`` saying what is wrong otherwise."""
    table = _merged(tables, name)
    override = table.pop("overrides", {}).get(task.name, {})
    table.update(override)
    where = f"[recipes.{name}]"
    if table.get("dataset", task.name) != task.name:
        raise MeasurementError(f"{where} is for dataset {table['dataset']!r}, not {task.name!r}")
    if "text_field" in table and table["text_field"] not in task.text_fields:
        raise MeasurementError(
            f"{where}: text_field {table['text_field']!r} is not a column of {task.name} "
            f"({', '.join(task.text_fields)})"
        )
    missing = [k for k in ("max_length", "batch_size", "learning_rate", "epochs") if k not in table]
    if missing:
        raise MeasurementError(f"{where}: missing {', '.join(missing)} (needed to fine-tune on {task.name})")
    seeds = table.get("seeds", [42])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise MeasurementError(f"{where}: seeds must be a non-empty array of integers, e.g. seeds = [42, 43, 44]")
    aggregate = table.get("aggregate", "single" if len(seeds) == 1 else "median")
    if aggregate not in AGGREGATES or (aggregate == "single" and len(seeds) != 1):
        raise MeasurementError(
            f"{where}: aggregate {aggregate!r}: expected median or mean over several seeds, or single with one seed"
        )
    if "warmup_ratio" in table and "warmup_steps" in table:
        raise MeasurementError(f"{where}: give warmup_ratio or warmup_steps, not both")
    warmup = float(table.get("warmup_ratio", 0.0))
    if not 0.0 <= warmup < 1.0:
        raise MeasurementError(f"{where}: warmup_ratio {warmup} is not a fraction in [0, 1)")
    if "warmup_steps" in table:
        warmup = int(table["warmup_steps"])
    if table.get("truncation", "head") != "head":
        raise MeasurementError(
            f"{where}: truncation {table['truncation']!r} is not implemented (only 'head': "
            "keep the first max_length tokens)"
        )
    return Recipe(
        name=name,
        task=task.name,
        max_length=int(table["max_length"]),
        batch_size=int(table["batch_size"]),
        learning_rate=float(table["learning_rate"]),
        epochs=float(table["epochs"]),
        seeds=tuple(seeds),
        aggregate=aggregate,
        warmup=warmup,
        weight_decay=float(table.get("weight_decay", 0.0)),
        doc_stride=int(table.get("doc_stride", 128)),
        max_query_length=int(table.get("max_query_length", 64)),
        max_answer_length=int(table.get("max_answer_length", 30)),
        teacher=table.get("teacher"),
        source=str(table.get("source", "")),
    )


# ---------------------------------------------------------------- devices


def distributed() -> tuple[int, int]:
    """(rank, world size) of this process under torchrun/accelerate; (0, 1) otherwise."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def resolve_device(requested: str) -> str:
    """The device this process uses for ``requested`` (cpu, cuda or cuda:N).

    Outside torchrun a GPU run is pinned to one GPU through ``CUDA_VISIBLE_DEVICES`` before CUDA starts, so
    that Trainer neither trains every pytest-xdist worker on GPU 0 nor spreads one run over all GPUs with
    DataParallel: ``cuda:N`` gets GPU N, ``cuda`` gets GPU ``N % count`` in worker ``gwN``. Under torchrun
    each rank uses its ``LOCAL_RANK``.
    """
    if requested == "cpu":
        return "cpu"
    import torch

    if not torch.cuda.is_available():
        raise NotRunError(
            f"device {requested!r} was asked for but no CUDA device is visible",
            "run on a machine with an NVIDIA GPU and a CUDA build of torch, or pass --claims-device cpu",
        )
    if distributed()[1] > 1:
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    if requested.startswith("cuda:"):
        index = int(requested.removeprefix("cuda:"))
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        index = int(worker) if worker.isdigit() else 0
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = (
        visible.split(",")
        if visible and not torch.cuda.is_initialized()
        else [str(i) for i in range(torch.cuda.device_count())]
    )
    if requested.startswith("cuda:") and index >= len(ids):
        raise NotRunError(
            f"device {requested!r} was asked for but {len(ids)} CUDA device(s) are visible",
            f"pass --claims-device cuda:0 ... cuda:{len(ids) - 1}, or cuda",
        )
    if not torch.cuda.is_initialized():
        os.environ["CUDA_VISIBLE_DEVICES"] = ids[index % len(ids)]
        return "cuda:0"
    return f"cuda:{index % len(ids)}"


# ---------------------------------------------------------------- cache keys


def checkpoint_digest(path: Path) -> str:
    """SHA-256 over the files that determine a checkpoint (config, weights, tokenizer files)."""
    h = hashlib.sha256()
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES and not p.name.startswith(".") and p.name != MANIFEST
    )
    if not files:
        raise MeasurementError(f"{path} holds no checkpoint files (config.json, *.safetensors ...)")
    for file in files:
        h.update(file.name.encode() + b"\0")
        h.update(_file_sha256(file).encode())
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """The versions of the libraries a fine-tuned model depends on."""
    from importlib.metadata import version

    return {name: version(name) for name in ("torch", "transformers", "tokenizers", "datasets", "accelerate")}


def cache_inputs(base_digest: str, data: TaskData, recipe: Recipe, seed: int, runtime: Runtime) -> dict[str, Any]:
    """Everything that determines a fine-tuned model: the cache key is a hash of this."""
    return {
        "base": base_digest,
        "task": data.task.name,
        "data": data.digest,
        "recipe": recipe.training_fields(),
        "seed": seed,
        "device": runtime.device.split(":")[0],
        "precision": runtime.precision,
        "world_size": distributed()[1],
        "versions": versions(),
    }


def entry_name(label: str, inputs: Mapping[str, Any]) -> str:
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return f"{safe}-s{inputs['seed']}-{key}"


# ---------------------------------------------------------------- cache entries


@attrs.frozen
class Entry:
    """A complete, verified fine-tuned model in the cache."""

    path: Path
    manifest: Mapping[str, Any]
    trained_now: bool


def _cache_error(exc: OSError, what: str, where: Path) -> MeasurementError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = f"free disk space under {where} or point --claims-cache-dir (CLAIMS_CACHE_DIR) at a larger disk"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = f"make {where} writable or point --claims-cache-dir (CLAIMS_CACHE_DIR) at a writable directory"
    else:
        hint = f"check {where} and its disk"
    return MeasurementError(
        f"{what} failed: {exc.strerror or exc} ({type(exc).__name__}: {exc}); {hint}. "
        "Nothing was cached, so no result rests on a partial model"
    )


def verify(path: Path) -> Mapping[str, Any]:
    """The entry's manifest, after checking every file's size and SHA-256 against it."""
    remedy = f"delete it (rm -rf {path}) and rerun: it will be fine-tuned again"
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MeasurementError(
            f"the cached fine-tuned model {path} has an unreadable manifest ({exc}); {remedy}"
        ) from None
    for name, expected in files.items():
        file = path / name
        try:
            size = file.stat().st_size
            if size != expected["bytes"]:
                raise MeasurementError(
                    f"the cached fine-tuned model {path} is damaged: {name} has {size} bytes, its "
                    f"manifest says {expected['bytes']}; {remedy}"
                )
            if _file_sha256(file) != expected["sha256"]:
                raise MeasurementError(
                    f"the cached fine-tuned model {path} is damaged: {name} does not match the "
                    f"SHA-256 in its manifest; {remedy}"
                )
        except OSError as exc:
            raise MeasurementError(f"the cached fine-tuned model {path} is damaged: {name}: {exc}; {remedy}") from None
    return manifest


def _manifest(path: Path, inputs: Mapping[str, Any], metrics: Mapping[str, Any], seconds: float) -> dict[str, Any]:
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _file_sha256(p)} for p in sorted(path.iterdir()) if p.is_file()
    }
    return {
        "inputs": dict(inputs),
        "files": files,
        "train_metrics": dict(metrics),
        "seconds": seconds,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def fine_tuned(
    cache_dir: Path,
    label: str,
    base_dir: Path,
    base_digest: str,
    train: TaskData,
    recipe: Recipe,
    seed: int,
    runtime: Runtime,
) -> Entry:
    """The cached model ``base_dir`` fine-tuned on ``train`` with ``recipe`` and ``seed``; trained if absent."""
    if recipe.teacher is not None:
        raise NotRunError(
            f"recipe {recipe.name} fine-tunes with distillation from the teacher {recipe.teacher!r}, which this "
            "harness does not implement",
            "evaluate the published fine-tuned checkpoint instead (see the model's [models.<name>.finetuned] table)",
        )
    inputs = cache_inputs(base_digest, train, recipe, seed, runtime)
    root = cache_dir / "finetuned"
    name = entry_name(label, inputs)
    path = root / name
    if (path / MANIFEST).is_file():  # complete entries never change: no lock needed to read one
        return Entry(path, verify(path), trained_now=False)
    rank, world = distributed()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cache_error(exc, f"creating the cache directory {root}", root) from None
    if world > 1 and rank != 0:  # rank 0 holds the lock and writes; the others train alongside it
        _train(base_dir, train, recipe, seed, runtime, None)
        _barrier()
        return Entry(path, verify(path), trained_now=True)
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / f"{name}.lock"))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            print(f"waiting for another process that is fine-tuning {name} ...", file=sys.stderr)
            lock.acquire()
    except OSError as exc:
        raise _cache_error(exc, f"locking {root / name}.lock", root) from None
    try:
        if (path / MANIFEST).is_file():  # another worker built it while this one waited
            return Entry(path, verify(path), trained_now=False)
        return _build(root, name, path, inputs, base_dir, train, recipe, seed, runtime)
    finally:
        lock.release()


def _build(
    root: Path,
    name: str,
    path: Path,
    inputs: Mapping[str, Any],
    base_dir: Path,
    train: TaskData,
    recipe: Recipe,
    seed: int,
    runtime: Runtime,
) -> Entry:
    """Train into a temporary directory, write the manifest last, rename into place (holding the lock)."""
    for stale in root.glob(f".tmp-{name}-*"):  # left by a killed run: the lock says nobody else is using it
        shutil.rmtree(stale, ignore_errors=True)
    if path.exists():  # a directory without a manifest was never completed by this code
        shutil.rmtree(path, ignore_errors=True)
    tmp: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".tmp-{name}-"))
        tmp.chmod(0o755)  # mkdtemp's 0o700 would keep a shared cache's entries from other users
        started = time.perf_counter()
        metrics = _train(base_dir, train, recipe, seed, runtime, tmp)
        seconds = time.perf_counter() - started
        atomic_write_text(tmp / MANIFEST, json.dumps(_manifest(tmp, inputs, metrics, seconds), indent=1) + "\n")
        os.rename(tmp, path)
        tmp = None
    except OSError as exc:
        raise _cache_error(exc, f"writing the fine-tuned model {name}", root) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        with (root / LOG).open("a", encoding="utf-8") as log:
            log.write(
                json.dumps(
                    {
                        "entry": name,
                        "seconds": round(seconds, 3),
                        "pid": os.getpid(),
                        "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
                    }
                )
                + "\n"
            )
    except OSError as exc:  # the entry is complete; only the log of trainings misses a line
        warnings.warn(f"could not log the training of {name} in {root / LOG}: {exc}", stacklevel=2)
    if distributed()[1] > 1:
        _barrier()
    return Entry(path, verify(path), trained_now=True)


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


# ---------------------------------------------------------------- training


def model_class(task: Task) -> Any:
    """The transformers Auto class with the head a task needs."""
    import transformers

    return (
        transformers.AutoModelForQuestionAnswering
        if task.kind == "squad"
        else transformers.AutoModelForSequenceClassification
    )


def load_for_task(path: Path, task: Task, **kwargs: Any) -> Any:
    """A checkpoint loaded with the task's head (a ``MeasurementError`` when its files cannot be read)."""
    try:
        return model_class(task).from_pretrained(str(path), local_files_only=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise MeasurementError(
            f"the checkpoint at {path} cannot be loaded: {str(exc).splitlines()[0]}; "
            "check that its files are complete (re-download or re-copy it)"
        ) from None


def load_tokenizer(*paths: Path) -> Any:
    """The tokenizer of the first directory that has one."""
    from transformers import AutoTokenizer

    errors = []
    for path in paths:
        try:
            return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {str(exc).splitlines()[0]}")
    raise MeasurementError("no usable tokenizer files: " + "; ".join(errors))


def _features(train: TaskData, tokenizer: Any, recipe: Recipe) -> Any:
    """Tokenized training examples (and answer spans for SQuAD) for Trainer."""
    task = train.task
    if task.kind == "squad":
        return train.dataset.map(
            lambda batch: _qa_train_features(batch, tokenizer, recipe),
            batched=True,
            remove_columns=train.dataset.column_names,
            keep_in_memory=True,
            desc="tokenizing",
        )
    fields = task.text_fields
    return train.dataset.map(
        lambda batch: tokenizer(*(batch[f] for f in fields), truncation=True, max_length=recipe.max_length),
        batched=True,
        remove_columns=list(fields),
        keep_in_memory=True,
        desc="tokenizing",
    )


def _qa_train_features(batch: Mapping[str, list[Any]], tokenizer: Any, recipe: Recipe) -> dict[str, Any]:
    """Windows over each context with the answer's token span (the class token when it is not inside)."""
    from harness.evaluation import qa_features

    enc = qa_features(
        tokenizer,
        batch["question"],
        batch["context"],
        max_length=recipe.max_length,
        doc_stride=recipe.doc_stride,
        max_query_length=recipe.max_query_length,
    )
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        ids = enc["input_ids"][i]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
        answers = batch["answers"][enc["overflow_to_sample_mapping"][i]]
        sequence_ids = enc.sequence_ids(i)
        context = [t for t, s in enumerate(sequence_ids) if s == 1]
        if not answers["answer_start"] or not context:
            starts.append(cls)
            ends.append(cls)
            continue
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        first, last = context[0], context[-1]
        if offsets[first][0] > start_char or offsets[last][1] < end_char:
            starts.append(cls)
            ends.append(cls)
            continue
        start = first
        while start <= last and offsets[start][0] <= start_char:
            start += 1
        end = last
        while end >= first and offsets[end][1] >= end_char:
            end -= 1
        starts.append(start - 1)
        ends.append(end + 1)
    out = {k: v for k, v in enc.items() if k not in ("offset_mapping", "overflow_to_sample_mapping")}
    return {**out, "start_positions": starts, "end_positions": ends}


def _train(
    base_dir: Path, train: TaskData, recipe: Recipe, seed: int, runtime: Runtime, out: Path | None
) -> dict[str, Any]:
    """Fine-tune ``base_dir`` and save model and tokenizer into ``out`` (None: a rank that does not write)."""
    import transformers
    from transformers import Trainer, TrainingArguments

    task = train.task
    world = distributed()[1]
    if recipe.batch_size % world:
        raise MeasurementError(
            f"recipe {recipe.name}: batch size {recipe.batch_size} is not divisible by the "
            f"{world} processes; run with a number of GPUs that divides it"
        )
    transformers.set_seed(seed)  # before the head is initialised, as run_glue does
    tokenizer = load_tokenizer(base_dir)
    extra: dict[str, Any] = {}
    if task.kind == "regression":
        extra = {"num_labels": 1, "problem_type": "regression"}
    elif task.kind == "classification":
        extra = {
            "num_labels": task.num_labels,
            "id2label": dict(enumerate(task.labels)),
            "label2id": {label: i for i, label in enumerate(task.labels)},
        }
    model = load_for_task(base_dir, task, **extra)
    features = _features(train, tokenizer, recipe)
    cuda = runtime.device.startswith("cuda")
    with tempfile.TemporaryDirectory(prefix="claims-trainer-") as scratch:
        args = TrainingArguments(
            output_dir=scratch,
            per_device_train_batch_size=recipe.batch_size // world,
            learning_rate=recipe.learning_rate,
            num_train_epochs=recipe.epochs,
            warmup_steps=recipe.warmup,
            weight_decay=recipe.weight_decay,
            seed=seed,
            data_seed=seed,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="epoch",
            report_to="none",
            use_cpu=not cuda,
            bf16=runtime.autocast == "bfloat16",
            tf32=True if cuda and runtime.autocast == "bfloat16" else None,
            dataloader_num_workers=0,
        )
        trainer = Trainer(model=model, args=args, train_dataset=features, processing_class=tokenizer)
        result = trainer.train()
        if out is not None:
            trainer.save_model(str(out))
            (out / "training_args.bin").unlink(missing_ok=True)  # pickled arguments: not part of the model
    return dict(result.metrics)
