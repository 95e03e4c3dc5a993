"""Measurements: the ``Measurement``/``Context`` contract, the registry of kinds, and one claim end to end.

A kind (``kinds/``, one module or package per kind) turns a claim into a ``Measurement``: a value with its unit,
interval, bootstrap replicates, the conditions it was measured under and the evidence it rests on. The
``Context`` memoizes measurements for a session and evaluates formulas over them; ``engine.evaluate`` runs a
claim through measurement and the verdict engine into a ``ClaimResult``. ``checks.check_file`` runs, at
collection, the checks of a loaded claims file that need the ML layer (strict configs, builders, FLOP
settings, workloads, tasks), turning problems into the file's invalid records.

May import: ``harness.core``, ``harness.spec``, ``harness.verdict`` and ``harness.ml``.
"""
