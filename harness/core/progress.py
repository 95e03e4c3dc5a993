"""Progress bars for long steps (timing, fine-tuning, evaluation), written to the terminal even under capture.

The pytest plug-in calls ``configure`` once: bars go to the real stderr (``sys.__stderr__``, which pytest's
capture does not replace) when it is a terminal and the run is not ``-q``; otherwise every bar is a no-op.
A claim item sets the label its bars carry (``claim``), so that a bar says which claim it belongs to. tqdm
is imported only when a bar is shown.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

_state: dict[str, Any] = {"stream": None, "claim": ""}


def configure(stream: IO[str] | None) -> None:
    """Show bars on ``stream`` (None: show none)."""
    _state["stream"] = stream


def terminal_stream(quiet: bool) -> IO[str] | None:
    """The stream bars go to: the process's real stderr when it is a terminal and not ``quiet``, else None."""
    stream = sys.__stderr__
    if quiet or stream is None or not stream.isatty():
        return None
    return stream


def enabled() -> bool:
    return _state["stream"] is not None


@contextlib.contextmanager
def claim(label: str) -> Iterator[None]:
    """Bars started inside the block carry ``label`` (a claim id)."""
    saved = _state["claim"]
    _state["claim"] = label
    try:
        yield
    finally:
        _state["claim"] = saved


class _Quiet:
    """The bar when none is shown: accepts every call and does nothing."""

    total: int | None = None

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def reset(self, total: int | None = None) -> None:
        pass


def bar_off() -> Any:
    """A bar that shows nothing (for callers that switch their bar off)."""
    return _Quiet()


@contextlib.contextmanager
def bar(total: int | None, what: str, unit: str = "it") -> Iterator[Any]:
    """A bar for ``total`` steps of ``what`` ("fine-tune <model> on glue/sst2, seed 42"), with the claim's
    label, the count, the rate and the ETA; a no-op object when bars are off."""
    stream = _state["stream"]
    if stream is None:
        yield _Quiet()
        return
    from tqdm import tqdm

    label = f"{_state['claim']}: " if _state["claim"] else ""
    with tqdm(
        total=total, desc=label + what, unit=unit, file=stream, leave=False, dynamic_ncols=True, mininterval=0.5
    ) as shown:
        yield shown
