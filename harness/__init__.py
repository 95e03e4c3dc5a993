"""A test harness that turns a paper's quantitative claims into pytest items with verdicts.

The package imports nothing heavy at load time: torch and transformers are imported inside the
measurement functions that need them, so that ``pytest`` stays fast when no claim is measured.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
