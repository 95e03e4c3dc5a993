"""The outputs: results files, terminal text, the HTML report, run diffs, replication files and audits.

``results`` (results.json) with ``results_schema`` (its shape) and ``runs`` (run directories and ``latest``),
``terminal`` (verdict lines), ``html`` with ``charts`` and ``ordering`` (report.html),
``diff`` (two runs), ``replications`` (a third party's reported numbers) and ``audit`` (judging them).

May import: ``harness.core``, ``harness.spec``, ``harness.verdict``, ``harness.ml`` and ``harness.measure``.
"""
