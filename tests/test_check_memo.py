"""The memo of passed model-table checks: a second collection of the same table skips transformers (and so
torch), while any change to the table, to transformers' version or to the checking code checks again, and a
failing table is never remembered."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from claimsfile import HEADER, claim, claims_toml

from harness.core.errors import ClaimError
from harness.measure import check_memo
from harness.spec.loader import load

pytestmark = pytest.mark.fast

LOAD_AND_REPORT = """
import sys
from pathlib import Path
from harness.measure import check_memo
check_memo.set_memo_dir(Path(sys.argv[2]))
from harness.spec.loader import load
load(sys.argv[1])
print("torch" in sys.modules, "transformers" in sys.modules)
"""


def _file(tmp_path: Path, header: dict | None = None) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(claims_toml(claim("c.one", value=1.0), header=header or HEADER))
    return path


def _load_in_a_fresh_process(path: Path, memo: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_REPORT, str(path), str(memo)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_passed_table_is_not_checked_again(tmp_path: Path) -> None:
    path, memo = _file(tmp_path), tmp_path / "memo"
    assert _load_in_a_fresh_process(path, memo) == "True True"  # first: transformers' config classes (and torch)
    (entry,) = memo.glob("*.json")
    recorded = json.loads(entry.read_text())
    assert recorded["model"] == "tiny"
    assert recorded["facts"] == {"max_position_embeddings": 64}
    assert recorded["inputs"]["config"]["hidden_size"] == 32
    assert _load_in_a_fresh_process(path, memo) == "False False"  # then: the memo, no heavy import


def test_every_input_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_memo.set_memo_dir(tmp_path / "memo")
    try:
        load(_file(tmp_path))
        assert len(list((tmp_path / "memo").glob("*.json"))) == 1
        changed = copy.deepcopy(HEADER)
        changed["models"]["tiny"]["config"]["intermediate_size"] = 128
        load(_file(tmp_path, changed))
        assert len(list((tmp_path / "memo").glob("*.json"))) == 2  # another config: another entry
        monkeypatch.setattr(check_memo.metadata, "version", lambda name: "0.0-another")
        load(_file(tmp_path))
        assert len(list((tmp_path / "memo").glob("*.json"))) == 3  # another transformers: checked again
        check_memo._code_digest.cache_clear()
        monkeypatch.setattr(check_memo, "CHECK_MODULES", ("harness.measure.check_memo",))
        load(_file(tmp_path))
        assert len(list((tmp_path / "memo").glob("*.json"))) == 4  # other checking code: checked again
    finally:
        check_memo._code_digest.cache_clear()
        check_memo.set_memo_dir(None)


def test_a_failing_table_is_never_remembered(tmp_path: Path) -> None:
    check_memo.set_memo_dir(tmp_path / "memo")
    try:
        bad = copy.deepcopy(HEADER)
        bad["models"]["tiny"]["config"]["hiden_size"] = 32
        for _ in range(2):  # reported both times: a failure is re-checked, not recalled
            (invalid,) = load(_file(tmp_path, bad)).invalid
            assert invalid.name == "<models.tiny>"
            assert isinstance(invalid.error, ClaimError) and "hiden_size" in str(invalid.error)
        assert not list((tmp_path / "memo").glob("*.json"))
    finally:
        check_memo.set_memo_dir(None)


def test_a_corrupt_memo_is_checked_again(tmp_path: Path) -> None:
    check_memo.set_memo_dir(tmp_path / "memo")
    try:
        load(_file(tmp_path))
        (entry,) = (tmp_path / "memo").glob("*.json")
        entry.write_text("{not json")
        load(_file(tmp_path))  # re-checked, and the entry rewritten
        assert json.loads(entry.read_text())["model"] == "tiny"
    finally:
        check_memo.set_memo_dir(None)
