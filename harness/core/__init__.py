"""The base layer: the harness's own errors, plug-in registries, statistics, file writing, terminal text, environment.

Everything here is generic (no claims, no models, no pytest) and light (numpy is imported inside functions).

May import: nothing of the harness. Every other layer may import it.
"""
