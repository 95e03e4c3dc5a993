"""Collection: claims files become pytest items, one per claim, and one failing item per invalid record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import ClaimError, HarnessError
from harness.pytest_plugin.session import session_state
from harness.spec import Claim, ClaimsFile, InvalidRecord, load
from harness.verdict import ClaimResult


def _is_claims_file(config: pytest.Config, file_path: Path) -> bool:
    if file_path.suffix != ".toml":
        return False
    for entry in config.getini("claims_dirs"):
        directory = (config.rootpath / entry).resolve()
        if file_path.resolve().parent == directory:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_claims_file(parent.config, file_path):
        return ClaimsFileNode.from_parent(parent, path=file_path)
    return None


def _markers(claim: Claim, claims_file: ClaimsFile) -> set[str]:
    """The claim's markers: its kind's, and those of the claims its formula uses (transitively)."""
    from harness.measure.registry import KINDS

    if claim.measure is not None:
        return set(KINDS[claim.measure.kind].markers)
    out: set[str] = set()
    for name in claim.formula.names if claim.formula else ():
        out |= _markers(claims_file.claim(name), claims_file)
    return out


class ClaimsFileNode(pytest.File):
    """A claims file: one item per claim, and one failing item per invalid record."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            shown = str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            shown = str(self.path)
        from harness.measure.checks import check_file

        claims_file = _with_path(check_file(load(self.path)), shown)
        for record in claims_file.invalid:
            invalid = InvalidClaimItem.from_parent(self, name=record.name, record=record)
            invalid.add_marker("claims")
            yield invalid
        for claim in claims_file.claims:
            item = ClaimItem.from_parent(self, name=claim.id, claim=claim, claims_file=claims_file)
            item.add_marker("claims")
            for marker in sorted(_markers(claim, claims_file)):
                item.add_marker(marker)
            yield item


def _with_path(claims_file: ClaimsFile, shown: str) -> ClaimsFile:
    """The file as loaded, with paths shown relative to the rootdir in every message."""
    import attrs

    def fix_error(err: ClaimError) -> ClaimError:
        return ClaimError(shown, err.claim_id, err.field, err.expected, err.found, err.fix)

    return attrs.evolve(
        claims_file,
        path=shown,
        claims=tuple(attrs.evolve(c, path=shown) for c in claims_file.claims),
        invalid=tuple(InvalidRecord(r.name, fix_error(r.error)) for r in claims_file.invalid),
    )


class VerdictOutcome(Exception):
    """Raised by a claim item whose verdict fails the test; carries the result for the report."""

    def __init__(self, result: ClaimResult) -> None:
        self.result = result
        super().__init__(result.verdict)


class InvalidClaimItem(pytest.Item):
    """A record that could not be loaded: it fails with the loader's message, no traceback."""

    def __init__(self, *, record: InvalidRecord, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record = record

    def runtest(self) -> None:
        err = self.record.error
        result = ClaimResult(
            id=err.claim_id or self.name,
            nodeid=self.nodeid,
            verdict="ERROR",
            reason=str(err),
            unit="",
            claimed=None,
            band=None,
            tolerance={},
            claims_file=err.path,
            reproduce=session_state(self.config).reproduce(self.nodeid),
        )
        self.user_properties.append(("verdict", "ERROR"))
        self.user_properties.append(("claim_result", json.dumps(result.to_dict())))
        raise err

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ClaimError):
            return f"invalid claims record\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"claims record {self.name}"


class ClaimItem(pytest.Item):
    """One claim: measure, decide, and turn the verdict into a pytest outcome."""

    def __init__(self, *, claim: Claim, claims_file: ClaimsFile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.claim = claim
        self.claims_file = claims_file

    def runtest(self) -> None:
        from harness.measure.engine import evaluate
        from harness.report.terminal import outcome_text

        state = session_state(self.config)
        try:
            result = evaluate(self.claim, state.context(self.claims_file), self.nodeid, state.reproduce(self.nodeid))
        except HarnessError as exc:
            self.user_properties.append(("verdict", "ERROR"))
            error = ClaimResult(
                id=self.claim.id,
                nodeid=self.nodeid,
                verdict="ERROR",
                reason=str(exc),
                unit=self.claim.unit,
                claimed=self.claim.value,
                band=None,
                tolerance={},
                claims_file=self.claim.path,
                reproduce=state.reproduce(self.nodeid),
            )
            self.user_properties.append(("claim_result", json.dumps(error.to_dict())))
            raise
        for key in ("verdict", "claimed", "measured", "interval", "unit", "reason", "reproduce"):
            value = getattr(result, key)
            self.user_properties.append((key, "" if value is None else str(value)))
        self.user_properties.append(("claim_result", json.dumps(result.to_dict())))
        text = outcome_text(result)
        if result.verdict == "REPRODUCED":
            return
        if result.verdict == "NOT_REPRODUCED":
            raise VerdictOutcome(result)
        if result.verdict == "INCONCLUSIVE":
            if self.config.getoption("claims_strict"):
                raise VerdictOutcome(result)
            pytest.xfail(text)
        if result.verdict == "INCONSISTENT":
            pytest.xfail(text)
        pytest.skip(text)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        from harness.report.terminal import outcome_text

        if isinstance(excinfo.value, VerdictOutcome):
            return outcome_text(excinfo.value.result)
        if isinstance(excinfo.value, HarnessError):
            return f"{self.claim.id}: the measurement failed: {excinfo.value}\n{self.claim.provenance}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"claim {self.claim.id}"
