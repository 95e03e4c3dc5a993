"""The command line: ``python -m harness fetch|report|diff|history|audit|check`` (also installed as
``claims-harness``).

Exit codes: 0 done (``diff``: no differences; ``check``: every record valid); 1 ``diff`` found differences,
``check`` found invalid records; 2 bad input (a missing or malformed file, a bad option) or a failed download,
with a message that says what to fix. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.text import printable

DEFAULT_AUDIT_OUT = Path("claims-results") / "audit"
DEFAULT_CLAIMS_DIR = Path("claims")
TASK_EVIDENCE = ("auto", "published", "finetune")  # harness.measure.kinds.task_evidence.TASK_EVIDENCE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Reports, run comparisons and audits of third-party numbers for the claims harness. "
        "Measuring is done by `pytest -m claims`; these commands only read what it wrote.",
    )
    from harness import __version__

    parser.add_argument("--version", action="version", version=f"claims-harness {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fetch = sub.add_parser(
        "fetch",
        help="download the checkpoints and data sets the selected claims need, and write a lock file",
        description="Plan exactly the hub artifacts the selected claims need (published and base checkpoints, "
        "data set splits, tokenizers), print each with its size and the claims it unlocks, download them (the "
        "only command that goes online) and record the resolved commits and file hashes in a lock file.",
    )
    fetch.add_argument(
        "claims_files",
        type=Path,
        nargs="*",
        metavar="CLAIMS_FILES",
        help=f"claims files (default: {DEFAULT_CLAIMS_DIR}/*.toml)",
    )
    fetch.add_argument("-k", dest="keyword", metavar="EXPR", help="select claims as pytest -k does (e.g. 'sst2')")
    fetch.add_argument(
        "--to",
        type=Path,
        metavar="DIR",
        help="download into DIR/<repo id>/ (use it as --claims-models-dir=DIR --claims-data-dir=DIR) instead of "
        "the hub cache",
    )
    fetch.add_argument(
        "--dry-run", action="store_true", help="print the plan and what is already here; download nothing"
    )
    fetch.add_argument(
        "--lock",
        type=Path,
        metavar="PATH",
        help="the lock file to write (default: claims.lock.json next to each claims file)",
    )
    fetch.add_argument(
        "--task-evidence",
        choices=TASK_EVIDENCE,
        default="auto",
        help="as --claims-task-evidence: plan published checkpoints, base checkpoints to fine-tune, or the first "
        "(auto, default)",
    )

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

    history = sub.add_parser(
        "history",
        help="list past runs, newest first: id, time, complete or partial, counts per verdict, selection",
        description="List the runs `pytest -m claims` wrote under DIR (one directory per run), newest first.",
    )
    history.add_argument(
        "out", type=Path, nargs="?", default=Path("claims-results"), metavar="DIR", help="default: claims-results"
    )

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
        description="Load claims files with the checks collection runs (fields, units, formulas, cross-file "
        "references, strict configs, custom builders with a meta-device forward pass, FLOP settings, workloads, "
        "tasks). Exit 1 on any problem.",
    )
    check.add_argument("claims", type=Path, nargs="+", metavar="CLAIMS.toml", help="claims files")
    return parser


def _say(text: str, file: object = None) -> None:
    """Print text that may come from a results, claims or replication file, control characters escaped."""
    print(printable(text), file=file or sys.stdout)


def _check(args: argparse.Namespace) -> int:
    from harness.spec import load

    problems = 0
    for path in args.claims:
        claims_file = load(path)
        for record in claims_file.invalid:
            _say(f"INVALID {record.name}: {record.error}")
        problems += len(claims_file.invalid)
        _say(f"{path}: {len(claims_file.claims)} valid claims, {len(claims_file.invalid)} invalid records")
    return 1 if problems else 0


def _fetch(args: argparse.Namespace) -> int:
    from harness import spec
    from harness.measure.artifacts import plan
    from harness.measure.fetching import plan_lines, run_plan

    paths = list(args.claims_files) or sorted(DEFAULT_CLAIMS_DIR.glob("*.toml"))
    if not paths:
        raise FileNotFoundError(f"no claims files given and none in {DEFAULT_CLAIMS_DIR}/; pass CLAIMS_FILES")
    files = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such claims file")
        loaded = spec.load(path)
        for bad in loaded.invalid:
            _say(f"skipped (invalid): {bad.error}", file=sys.stderr)
        files.append(loaded)
    chosen = plan(files, args.keyword, args.task_evidence)
    if not chosen.selected:
        raise ValueError(f"-k {args.keyword!r} selects no claim in {', '.join(map(str, paths))}")
    _say("\n".join(plan_lines(chosen, args.to, args.dry_run)))
    if not args.dry_run and chosen.items:
        run_plan(chosen, to=args.to, lock=args.lock)
    return 0


def _report(args: argparse.Namespace) -> int:
    from harness.report.html import REPORT_NAME, write_report
    from harness.report.results import is_results_file
    from harness.report.runs import resolve_results

    results = resolve_results(args.results)
    out = args.output if args.output is not None else results.parent / REPORT_NAME
    if out.exists() and (out.resolve() == results.resolve() or is_results_file(out)):
        raise ValueError(
            f"-o {out}: refusing to write the report over "
            f"{'its own input' if out.resolve() == results.resolve() else 'a results file'}; "
            "give an .html path, e.g. -o report.html"
        )
    _say(f"report: {write_report(results, out)}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from harness.report.diff import diff, text_lines
    from harness.report.results import read_results
    from harness.report.runs import resolve_results

    old, new = resolve_results(args.old), resolve_results(args.new)
    result = diff(read_results(old), read_results(new), str(old), str(new))
    _say("\n".join(text_lines(result)))
    return 1 if result.differs else 0


def _history(args: argparse.Namespace) -> int:
    from harness.report.history import history_lines

    if args.out.exists() and not args.out.is_dir():
        raise NotADirectoryError(f"{args.out}: not a directory (give the --claims-out directory of the runs)")
    print("\n".join(history_lines(args.out)))
    return 0


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
    from harness.report.runs import resolve_results

    harness = read_results(resolve_results(args.results)) if args.results is not None else None
    result = audit.run(
        replication,
        claims.load(claims_path),
        replication_sha256=file_digest(args.replication),
        claims_sha256=file_digest(claims_path),
        harness=harness,
        harness_path=None if args.results is None else str(args.results),
    )
    _say("\n".join(audit.text_lines(result)))
    json_path, html_path = audit.write(result, args.out or DEFAULT_AUDIT_OUT / replication.report.key)
    _say(f"audit written: {json_path} and {html_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"fetch": _fetch, "report": _report, "diff": _diff, "history": _history, "audit": _audit}
    command = {**commands, "check": _check}[args.command]
    try:
        return command(args)
    except (HarnessError, ValueError, OSError) as exc:
        _say(f"{parser.prog} {args.command}: error: {exc}", sys.stderr)
        return 2
    except RecursionError:
        print(f"{parser.prog} {args.command}: error: an input is nested too deeply to read", file=sys.stderr)
        return 2
