"""Measurements: the ``Measurement``/``Context`` contract, the registry of kinds, and one claim end to end.

A kind (``kinds/``, one module or package per kind) turns a claim into a ``Measurement``: a value with its unit,
interval, bootstrap replicates, the conditions it was measured under and the evidence it rests on. The
``Context`` memoizes measurements for a session and evaluates formulas over them; ``engine.evaluate`` runs a
claim through measurement and the verdict engine into a ``ClaimResult``; ``failure`` turns a measurement that
raised into the claim's ERROR result.

May import: ``harness.core``, ``harness.spec``, ``harness.verdict`` and ``harness.ml``.
"""
