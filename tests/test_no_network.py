"""The `fast` suite runs offline: the guard in conftest.py makes any network use fail the test.

Policy (justified in conftest.py): every IP connection is refused, loopback included, and so is a
host-name lookup; AF_UNIX sockets and numeric lookups are allowed. An attempt that a library swallows
still fails the test. The attempts are made in a pytest subprocess that uses this project's conftest.py,
so that the outer test (itself `fast`, hence guarded) stays clean.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

INNER = """
import socket

import pytest

PORT = {port}


@pytest.fixture
def connected():
    return socket.create_connection(("127.0.0.1", PORT), timeout=1)


@pytest.mark.fast
def test_loopback_connect():
    socket.create_connection(("127.0.0.1", PORT), timeout=1)


@pytest.mark.fast
def test_remote_connect_ex():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect_ex(("203.0.113.1", 443))  # TEST-NET-3: documentation range, never routed


@pytest.mark.fast
def test_udp_sendto():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", ("192.0.2.1", 53))


@pytest.mark.fast
def test_swallowed_name_lookup():
    try:
        socket.getaddrinfo("huggingface.co", 443)
    except Exception:
        pass  # a library falling back to its offline path


@pytest.mark.fast
def test_fixture_connects(connected):
    pass


@pytest.mark.fast
def test_unix_socket_and_numeric_lookup():
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
    assert socket.getaddrinfo("127.0.0.1", 80)[0][4][0] == "127.0.0.1"


def test_not_fast_is_not_guarded():
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", PORT), timeout=1)
"""


def _unused_port() -> int:
    """A loopback port nothing listens on (binding is not a connection: the guard allows it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_kind_of_network_use_fails_a_fast_test_loudly(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    port = _unused_port()
    pytester.makepyfile(test_inner=INNER.format(port=port))
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    run.assert_outcomes(passed=2, failed=4, errors=1)
    error = "E *NetworkAccessError: test_inner.py::{} tried to use the network ({}*"
    run.stdout.fnmatch_lines_random(
        [
            error.format("test_loopback_connect", f"connect to ('127.0.0.1', {port})"),
            error.format("test_remote_connect_ex", "connect to ('203.0.113.1', 443)"),
            error.format("test_udp_sendto", "sendto ('192.0.2.1', 53)"),
            error.format("test_fixture_connects", f"connect to ('127.0.0.1', {port})"),
            # swallowed by the test: the guard fails it afterwards, listing what was tried
            "E *NetworkAccessError: test_inner.py::test_swallowed_name_lookup tried to use the network: "
            "name lookup of 'huggingface.co'",
        ]
    )


def test_local_sockets_and_numeric_lookups_pass_the_guard_here() -> None:
    """This test is `fast`, so the guard is active right now: allowed operations must not trip it."""
    assert socket.socket.connect.__module__ == "conftest"  # the guard is installed for this item
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
    assert socket.getaddrinfo("::1", 80)[0][4][0] == "::1"
