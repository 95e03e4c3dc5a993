"""Progress bars for long steps (timing, fine-tuning, evaluation), written to the terminal even under capture.

The pytest plug-in calls ``configure`` once: when stderr is a terminal and the run is not ``-q``, bars go to
the controlling terminal (``/dev/tty``): pytest's default capture redirects file descriptors 1 and 2 while a
test runs, so neither ``sys.__stderr__`` nor the terminal reporter's file reaches the screen then. Otherwise
(a log, CI, ``-q``) every bar is a no-op.
A claim item sets the label its bars carry (``claim``), so that a bar says which claim it belongs to. tqdm
is imported only when a bar is shown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Any

_state: dict[str, Any] = {"stream": None, "claim": ""}


def configure(stream: IO[str] | None) -> None:
    """Show bars on ``stream`` (None: show none); a terminal opened by ``terminal_stream`` before is closed."""
    previous = _state["stream"]
    if previous is not None and previous is not stream and getattr(previous, "name", "") == "/dev/tty":
        previous.close()
    _state["stream"] = stream


def terminal_stream(quiet: bool) -> IO[str] | None:
    """The stream bars go to: the controlling terminal when stderr is one (checked while pytest's capture is
    suspended, as it is during ``pytest_configure``) and not ``quiet``, else None."""
    if quiet:
        return None
    try:
        if not os.isatty(2):
            return None
        return open("/dev/tty", "w", encoding="utf-8", buffering=1)  # noqa: SIM115  (closed by ``configure``)
    except OSError:  # no controlling terminal (a daemon, some CI runners)
        return None


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
    with tqdm(total=total, desc=label + what, unit=unit, file=stream, leave=False, mininterval=0.5) as shown:
        yield shown
