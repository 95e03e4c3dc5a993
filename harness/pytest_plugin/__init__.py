"""The pytest plug-in's parts (``harness.plugin`` hands their hooks to pytest): options, outputs
(output paths checked before measuring), claims_files (which files are collected), items, selection (what a
run selected; partial runs), session, notices.

May import every layer below it: ``core``, ``spec``, ``verdict``, ``ml``, ``measure`` and ``report``.
"""
