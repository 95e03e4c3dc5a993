"""Project-wide test settings: the pytester plugin, offline Hub, and no network in `fast` tests.

Hypothesis profiles live in tests/conftest.py, so that `pytest -m claims` (which collects claims/ only)
does not import Hypothesis.

The claims plugin itself is loaded through its ``pytest11`` entry point (``harness.plugin``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from collections.abc import Generator, Iterator
from typing import Any

import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Tests never download: the Hub is offline for every test, whatever the shell says. The claims plugin holds
    every session offline by itself (harness/pytest_plugin/network.py); this is a second line for runs without
    it (``-p no:claims``). ``--claims-fetch`` is the user's opt-in to a fetch before measuring: not overridden."""
    if not config.getoption("claims_fetch", default=False):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def _extensions_imported() -> None:
    """numpy, torch and transformers, imported before any pytester snapshot of sys.modules is taken."""
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401


@pytest.fixture
def pytester(_extensions_imported: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester, once numpy and torch are imported. A pytester test removes, when it ends, the modules
    imported during it; a later one that measures a model would import torch again, and a C extension like
    torch's cannot be initialised twice in one process (SystemError "bad call flags", then a segfault)."""
    return pytester


# ---------------------------------------------------------------- no network in `fast` tests
# Policy: during setup, call and teardown of an item marked `fast`, any connection over IP fails loudly,
# loopback included (a local proxy on 127.0.0.1 would forward a download), and so does a host-name lookup
# (it may query a DNS server); AF_UNIX sockets and numeric or "localhost" lookups stay allowed, because
# nothing there leaves the machine (xdist talks to its workers over pipes, asyncio over socketpairs).
# The attempt raises NetworkAccessError, and because a library may swallow that error and fall back to
# an offline path, any attempt also fails the phase afterwards. Subprocesses a test starts are not covered.


class NetworkAccessError(RuntimeError):
    """A fast test tried to use the network."""


def _is_local_socket(sock: socket.socket) -> bool:
    return getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX


@contextlib.contextmanager
def _no_network(nodeid: str) -> Iterator[list[str]]:
    """Patch socket entry points so that any network use raises (and is recorded) while the block runs."""
    attempts: list[str] = []
    real: dict[str, Any] = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "sendto": socket.socket.sendto,
        "getaddrinfo": socket.getaddrinfo,
    }

    def refuse(what: str) -> NetworkAccessError:
        attempts.append(what)
        return NetworkAccessError(
            f"{nodeid} tried to use the network ({what}): tests marked `fast` must run offline; "
            "use a local file or fixture, or mark the test `slow` (see conftest.py)"
        )

    def connect(sock: socket.socket, address: Any) -> Any:
        if _is_local_socket(sock):
            return real["connect"](sock, address)
        raise refuse(f"connect to {address!r}")

    def connect_ex(sock: socket.socket, address: Any) -> Any:
        if _is_local_socket(sock):
            return real["connect_ex"](sock, address)
        raise refuse(f"connect to {address!r}")

    def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
        if _is_local_socket(sock):
            return real["sendto"](sock, data, *args)
        raise refuse(f"sendto {args[-1]!r}")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name == "localhost" or _is_ip_literal(name):
            return real["getaddrinfo"](host, *args, **kwargs)
        raise refuse(f"name lookup of {name!r}")

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]
    socket.socket.sendto = sendto  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = real["connect"]  # type: ignore[method-assign, assignment]
        socket.socket.connect_ex = real["connect_ex"]  # type: ignore[method-assign, assignment]
        socket.socket.sendto = real["sendto"]  # type: ignore[method-assign, assignment]
        socket.getaddrinfo = real["getaddrinfo"]


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _offline(item: pytest.Item) -> Generator[None, Any, Any]:
    if item.get_closest_marker("fast") is None:
        return (yield)
    with _no_network(item.nodeid) as attempts:
        result = yield
    if attempts:
        raise NetworkAccessError(f"{item.nodeid} tried to use the network: " + "; ".join(attempts))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _offline(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _offline(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _offline(item))
