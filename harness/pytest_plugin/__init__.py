"""The pytest plug-in's parts (``harness.plugin`` hands their hooks to pytest): options, items, session.

May import every layer below it: ``core``, ``spec``, ``verdict``, ``ml``, ``measure`` and ``report``.
"""
