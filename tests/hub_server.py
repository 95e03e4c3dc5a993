"""A Hugging Face Hub stand-in on 127.0.0.1, for tests: serves a directory tree as model and dataset repositories.

``root/models/<repo_id>/...`` and ``root/datasets/<repo_id>/...`` are the repositories (``<repo_id>`` may be
``org/name`` or a legacy ``name``). Each repository has one commit, the SHA-1 of its files' names and contents, so
changing a file changes the commit. The server answers what ``huggingface_hub`` (2.x) asks for
``snapshot_download`` and ``hf_hub_download``, as its own code builds the URLs:

- ``GET /api/{models|datasets}/{repo_id}[/revision/{rev}]``: repository info (``id``, ``sha``, ``siblings``);
- ``GET /api/{models|datasets}/{repo_id}/tree/{rev}[/{path}][?recursive=True]``: the listing of a folder (files
  and folders, or with ``recursive`` everything below it: ``type``, ``path``, ``size``, ``oid``), one page;
- ``HEAD``/``GET /[datasets/]{repo_id}/resolve/{rev}/{file}``: the file, with ``X-Repo-Commit``, ``ETag`` (the
  file's SHA-256, quoted), ``Content-Length``; ``GET`` sends the bytes.

A revision is ``main`` or the repository's commit; anything else is a 404 with ``X-Error-Code: RevisionNotFound``
(``RepoNotFound`` / ``EntryNotFound`` for a missing repository or file), as the Hub answers. Every request is
logged as ``(method, path)`` in ``HubServer.requests``. The server listens on an ephemeral loopback port, runs in
a daemon thread, and stops on context-manager exit or after ``timeout_s`` seconds, whichever comes first.
That is also enough for ``datasets.load_dataset(<repo>, <config>)`` of a parquet repository whose README.md declares
its ``configs`` (as ``nyu-mll/glue``'s does). ``huggingface_hub`` reads ``HF_ENDPOINT`` at import, so a client
runs in a subprocess with ``env()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

KIND_FOLDERS = {"models": "model", "datasets": "dataset"}


def repo_files(repo: Path) -> list[str]:
    """A repository directory's files as sorted ``/``-separated relative paths."""
    return sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file())


def commit_of(repo: Path) -> str:
    """The repository's commit as this server reports it: SHA-1 over its files' names and contents."""
    h = hashlib.sha1()
    for rel in repo_files(repo):
        h.update(rel.encode() + b"\0" + hashlib.sha256((repo / rel).read_bytes()).digest())
    return h.hexdigest()


def git_blob_oid(data: bytes) -> str:
    """The git blob id of a file's bytes (what the Hub reports as a file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tree_listing(repo: Path, files: list[str], folder: str, recursive: bool) -> list[dict[str, Any]]:
    """The Hub's tree listing of ``folder`` ('' = the root): its files and folders, or everything below it."""
    prefix = f"{folder}/" if folder else ""
    entries: dict[str, dict[str, Any]] = {}
    for rel in files:
        if not rel.startswith(prefix):
            continue
        parts = rel[len(prefix) :].split("/")
        depth = len(parts) if recursive else 1
        for i in range(1, min(depth, len(parts) - 1) + 1):  # the folders on the way
            path = prefix + "/".join(parts[:i])
            oid = hashlib.sha1(path.encode()).hexdigest()
            entries.setdefault(path, {"type": "directory", "path": path, "oid": oid})
        if recursive or len(parts) == 1:
            data = (repo / rel).read_bytes()
            entries[rel] = {"type": "file", "path": rel, "size": len(data), "oid": git_blob_oid(data)}
    return [entries[k] for k in sorted(entries)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # the request log is HubServer.requests

    # ------------------------------------------------------------ plumbing

    def _send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(200, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, status: int, code: str, message: str, commit: str | None = None) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
        if commit:
            headers["X-Repo-Commit"] = commit
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _repo(self, folder: str, repo_id: str) -> Path | None:
        repo = self.server.root / folder / repo_id
        return repo if repo_id and ".." not in repo_id.split("/") and repo.is_dir() else None

    def _revision_ok(self, repo: Path, revision: str) -> str | None:
        commit = commit_of(repo)
        return commit if revision in ("main", commit) else None

    # ------------------------------------------------------------ routes

    def do_HEAD(self) -> None:  # noqa: N802 - the stdlib's name
        self._route()

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._route()

    def _route(self) -> None:
        path = urlsplit(self.path).path
        self.server.log(self.command, path)
        parts = unquote(path).lstrip("/")
        if parts.startswith("api/"):
            self._api(parts[len("api/") :])
        elif "/resolve/" in parts:
            self._resolve(parts)
        else:
            self._error(404, "NotFound", f"no route for {path}")

    def _api(self, rest: str) -> None:
        folder, _, tail = rest.partition("/")
        if folder not in KIND_FOLDERS:
            self._error(404, "NotFound", f"unknown API {rest!r}")
            return
        if "/tree/" in tail:
            repo_id, _, after = tail.partition("/tree/")
            revision, _, sub = after.partition("/")
        elif "/revision/" in tail:
            repo_id, _, revision = tail.partition("/revision/")
            sub = None
        else:
            repo_id, revision, sub = tail, "main", None
        repo = self._repo(folder, repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository {repo_id!r} not found")
            return
        commit = self._revision_ok(repo, revision)
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        files = repo_files(repo)
        if "/tree/" in tail:
            recursive = parse_qs(urlsplit(self.path).query).get("recursive", ["False"])[0].lower() == "true"
            self._json(tree_listing(repo, files, (sub or "").strip("/"), recursive))
            return
        siblings = [{"rfilename": rel, "size": (repo / rel).stat().st_size} for rel in files]
        info = {"id": repo_id, "sha": commit, "private": False, "disabled": False, "gated": False}
        self._json({**info, "siblings": siblings, "lastModified": "2026-01-01T00:00:00.000Z", "tags": []})

    def _resolve(self, parts: str) -> None:
        folder = "models"
        if parts.startswith("datasets/"):
            folder, parts = "datasets", parts[len("datasets/") :]
        repo_id, _, after = parts.partition("/resolve/")
        revision, _, filename = after.partition("/")
        repo = self._repo(folder, repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository {repo_id!r} not found")
            return
        commit = self._revision_ok(repo, revision)
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        target = repo / filename
        if not filename or ".." in filename.split("/") or not target.is_file():
            self._error(404, "EntryNotFound", f"{filename!r} does not exist at revision {commit}", commit)
            return
        data = target.read_bytes()
        headers = {
            "X-Repo-Commit": commit,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "none",
        }
        self._send(200, data, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def log(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))


class HubServer:
    """The stand-in hub over ``root`` (see the module docstring); a context manager that starts and stops it."""

    def __init__(self, root: Path, timeout_s: float = 300.0) -> None:
        self.root = Path(root)
        self.timeout_s = timeout_s
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request received so far (a copy)."""
        if self._server is None:
            return []
        with self._server._lock:
            return list(self._server.requests)

    def commit(self, kind: str, repo_id: str) -> str:
        """The commit the server reports for a repository (``kind`` is ``model`` or ``dataset``)."""
        return commit_of(self.root / f"{kind}s" / repo_id)

    def env(self, hf_home: Path, **extra: str) -> dict[str, str]:
        """An environment for a client subprocess: this endpoint, its own HF_HOME, online, no proxies."""
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("HF_", "HUGGING"))}
        env.pop("TRANSFORMERS_OFFLINE", None)
        env.update(
            HF_ENDPOINT=self.url,
            HF_HOME=str(hf_home),
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_XET="1",
            NO_PROXY="127.0.0.1,localhost",
        )
        env.update(extra)
        return env

    def start(self) -> HubServer:
        self._server = _Server(self.root)
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.timeout_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set() or self._server is None:
            return
        self._stopped.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped.is_set()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
