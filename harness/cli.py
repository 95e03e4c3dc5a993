"""The command line: ``python -m harness report|diff|audit|check`` (also installed as ``claims-harness``).

Exit codes: 0 done (``diff``: no differences; ``check``: every record valid); 1 ``diff`` found differences,
``check`` found invalid records; 2 bad input (a missing or
malformed file, a bad option), with a message that says what to fix. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.core.errors import HarnessError

DEFAULT_AUDIT_OUT = Path("claims-results") / "audit"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Reports, run comparisons and audits of third-party numbers for the claims harness. "
        "Measuring is done by `pytest -m claims`; these commands only read what it wrote.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = sub.add_parser(
        "report",
        help="write the HTML report of a results file (no re-measuring)",
        description="Render the HTML report of a results.json written by `pytest -m claims`.",
    )
    report.add_argument("results", type=Path, metavar="RESULTS", help="a results.json written by `pytest -m claims`")
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="HTML",
        help="where to write the report (default: report.html next to RESULTS)",
    )

    diff = sub.add_parser(
        "diff",
        help="compare two runs: verdicts, values beyond tolerance, edited claims",
        description="Compare two results files. Exit 0: no differences; 1: differences.",
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the earlier results.json")
    diff.add_argument("new", type=Path, metavar="NEW", help="the later results.json")

    audit = sub.add_parser(
        "audit",
        help="judge a third party's reported numbers (replications/*.toml)",
        description="Audit a replication file against the paper's claims: verdicts with its "
        "numbers as the measurements, its own arithmetic, its quotes of the paper.",
    )
    audit.add_argument("replication", type=Path, metavar="REPLICATION.toml", help="a replications/*.toml file")
    audit.add_argument(
        "--claims", type=Path, metavar="CLAIMS.toml", help="the claims file (default: the replication's report.claims)"
    )
    audit.add_argument(
        "--results", type=Path, metavar="RESULTS.json", help="this harness's own results.json, shown as a third column"
    )
    audit.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"where audit.json and audit.html go (default: {DEFAULT_AUDIT_OUT}/<report key>)",
    )
    check = sub.add_parser(
        "check",
        help="validate claims files as collection does (no measuring)",
        description="Load claims files and run the collection-time checks (fields, units, formulas, strict "
        "configs, builders, a meta-device forward pass, FLOP settings, workloads, tasks). Exit 1 on any problem.",
    )
    check.add_argument("claims", type=Path, nargs="+", metavar="CLAIMS.toml", help="claims files")
    return parser


def _check(args: argparse.Namespace) -> int:
    from harness.measure.checks import check_file
    from harness.spec import load

    problems = 0
    for path in args.claims:
        claims_file = check_file(load(path))
        for record in claims_file.invalid:
            print(f"INVALID {record.name}: {record.error}")
        problems += len(claims_file.invalid)
        print(f"{path}: {len(claims_file.claims)} valid claims, {len(claims_file.invalid)} invalid records")
    return 1 if problems else 0


def _report(args: argparse.Namespace) -> int:
    from harness.report.html import write_report

    out = write_report(args.results, args.output)
    print(f"report: {out}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from harness.report.diff import diff, text_lines
    from harness.report.results import read_results

    result = diff(read_results(args.old), read_results(args.new), str(args.old), str(args.new))
    print("\n".join(text_lines(result)))
    return 1 if result.differs else 0


def _claims_path(args: argparse.Namespace, named: str) -> Path:
    """--claims, else the replication's ``report.claims``: relative to the current directory, else to the
    project root that holds the replications directory."""
    if args.claims is not None:
        if not args.claims.is_file():
            raise FileNotFoundError(f"--claims {args.claims}: no such file")
        return args.claims
    for candidate in (Path(named), args.replication.resolve().parent.parent / named):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{args.replication}: its claims file {named!r} is not found from here; "
        "run from the project root or pass --claims"
    )


def _audit(args: argparse.Namespace) -> int:
    from harness import spec as claims
    from harness.core.environment import file_digest
    from harness.report import audit, replications
    from harness.report.results import read_results

    replication = replications.load(args.replication)
    claims_path = _claims_path(args, replication.report.claims)
    harness = read_results(args.results) if args.results is not None else None
    result = audit.run(
        replication,
        claims.load(claims_path),
        replication_sha256=file_digest(args.replication),
        claims_sha256=file_digest(claims_path),
        harness=harness,
        harness_path=None if args.results is None else str(args.results),
    )
    print("\n".join(audit.text_lines(result)))
    json_path, html_path = audit.write(result, args.out or DEFAULT_AUDIT_OUT / replication.report.key)
    print(f"audit written: {json_path} and {html_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = {"report": _report, "diff": _diff, "audit": _audit, "check": _check}[args.command]
    try:
        return command(args)
    except (HarnessError, ValueError, OSError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
