"""The lock that one process holds while it builds a cache entry; the others wait, say for whom, and give up.

Next to ``<entry>.lock`` the holder writes ``<entry>.lock.holder`` (its pid, host, start time and what it is
doing), so a waiting process can print who it waits for. A wait is bounded: after ``CLAIMS_LOCK_TIMEOUT``
seconds (default two hours, the length of a long fine-tuning) it stops with an error that names the lock file,
the holder and the fix. A holder recorded on this host whose pid is no longer running is reported as stale (the
kernel frees the lock of a dead process, so one still held belongs to a process it left behind, e.g. a data
loader worker).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from harness.core.errors import MeasurementError
from harness.core.files import atomic_write_text, file_mode

ENV_TIMEOUT = "CLAIMS_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 2 * 3600.0

Notify = Callable[[str], None]


def stderr_notice(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def lock_timeout() -> float:
    """Seconds to wait for a lock: ``CLAIMS_LOCK_TIMEOUT``, else two hours."""
    raw = os.environ.get(ENV_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise MeasurementError(
            f"{ENV_TIMEOUT}={raw!r}: expected a number of seconds >= 0 to wait for a cache lock; "
            f"unset it (default {DEFAULT_TIMEOUT:g} s) or set e.g. {ENV_TIMEOUT}=600"
        )
    return value


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@attrs.frozen
class Holder:
    """Who holds a lock, as it wrote next to the lock."""

    pid: int
    host: str
    started: str
    doing: str

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(raw["pid"]), str(raw["host"]), str(raw["started"]), str(raw["doing"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        text = f"pid {self.pid} on {self.host}, {self.doing}, since {self.started}"
        if self.host == socket.gethostname() and not _pid_running(self.pid):
            text += (
                f" - STALE: pid {self.pid} is no longer running on this host; the lock is held by a process it "
                "left behind (find it with `fuser` or `lsof` on the lock file and end it)"
            )
        return text


class EntryLock:
    """A file lock with its holder's record; ``acquire`` waits at most ``lock_timeout()`` seconds."""

    def __init__(self, path: Path, doing: str, notify: Notify | None = None) -> None:
        from filelock import FileLock

        self.path = path
        self.holder_path = path.with_name(path.name + ".holder")
        self.doing = doing
        self.notify = notify or stderr_notice
        self._lock = FileLock(str(path), mode=file_mode())

    def acquire(self) -> None:
        from filelock import Timeout

        timeout = lock_timeout()
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = Holder.read(self.holder_path)
            who = holder.describe() if holder else f"a process that left no record in {self.holder_path}"
            self.notify(
                f"waiting for {self.path} (held by {who}) before {self.doing}; giving up after {timeout:g} s "
                f"({ENV_TIMEOUT})"
            )
            try:
                self._lock.acquire(timeout=timeout)
            except Timeout:
                holder = Holder.read(self.holder_path)
                who = holder.describe() if holder else "a process that left no record"
                raise MeasurementError(
                    f"gave up after {timeout:g} s waiting for the lock {self.path}, held by {who}; let that run "
                    f"finish, or end it (a suspended run: `kill -CONT` or `kill` its pid) and delete {self.path} "
                    f"and {self.holder_path}; {ENV_TIMEOUT}=<seconds> waits longer"
                ) from None
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "doing": self.doing,
        }
        try:
            atomic_write_text(self.holder_path, json.dumps(record) + "\n")
        except OSError:
            self._lock.release()
            raise

    def release(self) -> None:
        self.holder_path.unlink(missing_ok=True)
        self._lock.release()
