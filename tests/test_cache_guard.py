"""The fine-tuned model cache verifies content, not its own word; its files are shareable; its lock waits are bounded.

Classes: a manifest that does not prove its entry (no files, unlisted files, swapped or truncated weights); an
entry served under a key it was not built for (copied under another seed's directory, an edited key); manifest
names that leave the entry (``..``, absolute, a symlink out); a malformed manifest (bad JSON, wrong types);
file modes (what the umask allows, never 0600/0700); a lock wait (who holds it, a timeout, a stale holder).
Entries are written by hand here (no training): the checks are about the files, not the model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from filelock import FileLock

from harness.core.errors import MeasurementError
from harness.core.files import atomic_write_text, make_temp_dir
from harness.ml.cache_lock import EntryLock, lock_timeout
from harness.ml.cache_manifest import MANIFEST, entry_key, manifest_for, verify
from harness.ml.finetune_cache import cache_inputs, entry_name, fine_tuned
from harness.ml.recipes import Recipe

pytestmark = pytest.mark.fast

RECIPE = Recipe("r", "glue/sst2", 16, 4, 1e-3, 1.0, (1, 2), "median")
TRAIN = SimpleNamespace(task=SimpleNamespace(name="glue/sst2"), digest="d" * 64)
RUNTIME = SimpleNamespace(device="cpu", precision="fp32")


def make_entry(root: Path, seed: int = 1) -> Path:
    """A complete entry as ``fine_tuned`` names and writes it (files, then the manifest last)."""
    inputs = cache_inputs("b" * 64, TRAIN, RECIPE, seed, RUNTIME)  # type: ignore[arg-type]
    path = root / "finetuned" / entry_name("sst2-tiny", inputs)
    path.mkdir(parents=True)
    (path / "config.json").write_text('{"model_type": "bert"}')
    (path / "model.safetensors").write_bytes(os.urandom(256))
    (path / "tokenizer.json").write_text("{}")
    atomic_write_text(path / MANIFEST, json.dumps(manifest_for(path, inputs, {"train_loss": 0.5}, 1.0)))
    return path


def key_of(path: Path) -> str:
    return path.name.rsplit("-", 1)[1]


def edit_manifest(path: Path, change) -> None:
    manifest = json.loads((path / MANIFEST).read_text())
    change(manifest)
    (path / MANIFEST).write_text(json.dumps(manifest))


def refused(path: Path, key: str | None = None) -> str:
    with pytest.raises(MeasurementError) as info:
        verify(path, key or key_of(path))
    message = str(info.value)
    assert f"rm -rf {path}" in message  # every refusal says what to delete
    return message


def test_a_complete_entry_verifies_and_records_its_key(tmp_path: Path) -> None:
    path = make_entry(tmp_path)
    manifest = verify(path, key_of(path))
    assert manifest["key"] == key_of(path) == entry_key(manifest["inputs"])
    assert set(manifest["files"]) == {"config.json", "model.safetensors", "tokenizer.json"}


def _swap_weights(path: Path) -> None:
    weights = path / "model.safetensors"
    weights.write_bytes(os.urandom(weights.stat().st_size))  # same size, other content


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: (_swap_weights(p), edit_manifest(p, lambda m: m.update(files={}))), "lists no files"),
        (lambda p: edit_manifest(p, lambda m: m["files"].pop("model.safetensors")), "does not list (model.safetensors"),
        (lambda p: (p / "extra.bin").write_bytes(b"x"), "does not list (extra.bin"),
        (lambda p: (p / "sneaky").symlink_to(p / "config.json"), "does not list (sneaky"),
        (_swap_weights, "model.safetensors does not match the SHA-256"),
        (lambda p: (p / "model.safetensors").write_bytes(b"short"), "model.safetensors has 5 bytes"),
        (lambda p: (p / "tokenizer.json").unlink(), "is damaged: tokenizer.json"),
    ],
)
def test_a_manifest_that_does_not_prove_its_entry_is_refused(tmp_path: Path, change, message: str) -> None:
    path = make_entry(tmp_path)
    change(path)
    assert message in refused(path)


def test_an_entry_copied_under_another_seeds_key_is_refused(tmp_path: Path) -> None:
    seed1 = make_entry(tmp_path, seed=1)
    inputs2 = cache_inputs("b" * 64, TRAIN, RECIPE, 2, RUNTIME)  # type: ignore[arg-type]
    seed2 = seed1.parent / entry_name("sst2-tiny", inputs2)
    shutil.copytree(seed1, seed2)
    assert "copied or renamed from another entry" in refused(seed2)
    assert "seed 1" in refused(seed2)
    # the key edited to match the directory: no longer the hash of the inputs it records
    edit_manifest(seed2, lambda m: m.update(key=key_of(seed2)))
    assert "not the hash of the inputs it records" in refused(seed2)
    # a deliberate forgery (inputs and key both rewritten) passes: a manifest cannot prove more without retraining
    edit_manifest(seed2, lambda m: m.update(inputs=inputs2))
    assert verify(seed2, key_of(seed2))["inputs"]["seed"] == 2


def test_fine_tuned_serves_only_the_entry_built_for_its_key(tmp_path: Path) -> None:
    seed1 = make_entry(tmp_path, seed=1)
    args: tuple[Any, ...] = ("sst2-tiny", tmp_path / "base", "b" * 64, TRAIN, RECIPE)
    served = fine_tuned(tmp_path, *args, 1, RUNTIME)  # type: ignore[arg-type]
    assert served.path == seed1 and not served.trained_now
    inputs2 = cache_inputs("b" * 64, TRAIN, RECIPE, 2, RUNTIME)  # type: ignore[arg-type]
    shutil.copytree(seed1, seed1.parent / entry_name("sst2-tiny", inputs2))
    with pytest.raises(MeasurementError, match="copied or renamed"):
        fine_tuned(tmp_path, *args, 2, RUNTIME)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["../outside.bin", "/etc/hostname", "sub/../../x", "..", "a\\b", ""])
def test_manifest_names_that_leave_the_entry_are_refused(tmp_path: Path, name: str) -> None:
    path = make_entry(tmp_path)
    edit_manifest(path, lambda m: m["files"].update({name: {"bytes": 1, "sha256": "0" * 64}}))
    assert "not a plain file name inside the entry" in refused(path)


def test_a_listed_symlink_that_leads_outside_is_refused(tmp_path: Path) -> None:
    path = make_entry(tmp_path)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"secret")
    (path / "vocab.txt").symlink_to(outside)
    inputs = json.loads((path / MANIFEST).read_text())["inputs"]
    (path / MANIFEST).unlink()
    atomic_write_text(path / MANIFEST, json.dumps(manifest_for(path, inputs, {}, 1.0)))  # hashes match
    assert "a symlink that leads outside the entry" in refused(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable manifest"),
        ("[1, 2]", "expected a JSON object, found list"),
        ('{"key": "k", "inputs": {}, "files": []}', "'files' should be a JSON dict, found list"),
        ('{"inputs": {}, "files": {}}', "'key' should be a JSON str, found NoneType"),
        ("[" * 5000 + "]" * 5000, "unreadable manifest"),
    ],
)
def test_a_malformed_manifest_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = make_entry(tmp_path)
    (path / MANIFEST).write_text(content)
    assert message in refused(path)


@pytest.mark.parametrize(
    "entry",
    ["abc", {"bytes": "256", "sha256": "0" * 64}, {"bytes": True, "sha256": "0" * 64}, {"bytes": 1, "sha256": "xyz"}],
)
def test_a_file_record_of_the_wrong_shape_is_a_clear_error(tmp_path: Path, entry: Any) -> None:
    path = make_entry(tmp_path)
    edit_manifest(path, lambda m: m["files"].update({"config.json": entry}))
    assert "'config.json' should be {'bytes': <int>, 'sha256': <64 hex>}" in refused(path)


# ---------------------------------------------------------------- modes


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_written_files_and_directories_get_what_the_umask_allows(tmp_path: Path, mask, file_mode, dir_mode) -> None:
    old = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "results.json", "{}")
        directory = make_temp_dir(tmp_path, ".tmp-entry-")
        lock = EntryLock(tmp_path / "e.lock", "testing")
        lock.acquire()
        try:
            modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "e.lock", lock.holder_path)}
        finally:
            lock.release()
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == file_mode
    assert directory.stat().st_mode & 0o777 == dir_mode
    assert modes == {"e.lock": file_mode, "e.lock.holder": file_mode}


# ---------------------------------------------------------------- the lock


def test_a_held_lock_records_its_holder_and_a_bounded_wait_names_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLAIMS_LOCK_TIMEOUT", "0.3")
    holder = EntryLock(tmp_path / "e.lock", "fine-tuning e")
    holder.acquire()
    record = json.loads(holder.holder_path.read_text())
    assert record["pid"] == os.getpid() and record["doing"] == "fine-tuning e"
    notices: list[str] = []
    waiter = EntryLock(tmp_path / "e.lock", "fine-tuning e", notices.append)
    try:
        with pytest.raises(MeasurementError) as info:
            waiter.acquire()
    finally:
        holder.release()
    assert (
        len(notices) == 1 and f"held by pid {os.getpid()} on " in notices[0] and "giving up after 0.3 s" in notices[0]
    )
    message = str(info.value)
    assert f"gave up after 0.3 s waiting for the lock {tmp_path / 'e.lock'}, held by pid {os.getpid()}" in message
    assert "CLAIMS_LOCK_TIMEOUT=<seconds> waits longer" in message and "STALE" not in message
    assert not holder.holder_path.exists()
    waiter.acquire()  # free again
    waiter.release()


def test_a_holder_that_is_no_longer_running_is_reported_as_stale(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLAIMS_LOCK_TIMEOUT", "0.2")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    lock_path = tmp_path / "e.lock"
    left_behind = FileLock(str(lock_path))  # the lock, still held by a process the dead one left behind
    left_behind.acquire()
    import socket

    record = {"pid": pid, "host": socket.gethostname(), "started": "yesterday", "doing": "fine-tuning e"}
    (tmp_path / "e.lock.holder").write_text(json.dumps(record))
    try:
        with pytest.raises(MeasurementError, match=rf"STALE: pid {pid} is no longer running on this host"):
            EntryLock(lock_path, "fine-tuning e", lambda _: None).acquire()
        (tmp_path / "e.lock.holder").unlink()
        with pytest.raises(MeasurementError, match="held by a process that left no record"):
            EntryLock(lock_path, "fine-tuning e", lambda _: None).acquire()
    finally:
        left_behind.release()


@pytest.mark.parametrize(("value", "seconds"), [("", 7200.0), ("0", 0.0), ("90", 90.0), (" 1.5 ", 1.5)])
def test_the_lock_timeout_comes_from_the_environment(monkeypatch, value: str, seconds: float) -> None:
    monkeypatch.setenv("CLAIMS_LOCK_TIMEOUT", value)
    assert lock_timeout() == seconds


@pytest.mark.parametrize("value", ["soon", "-1", "inf", "nan"])
def test_a_bad_lock_timeout_is_a_clear_error(monkeypatch, value: str) -> None:
    monkeypatch.setenv("CLAIMS_LOCK_TIMEOUT", value)
    with pytest.raises(MeasurementError, match="CLAIMS_LOCK_TIMEOUT=.*expected a number of seconds >= 0"):
        lock_timeout()
