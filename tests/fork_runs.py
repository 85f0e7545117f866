"""Harness runs forked from a process that has only imported what they need.

The detection matrix starts some 370 harness runs, each a fresh `python -m
pytest`. Each fresh interpreter spends about 2 s of CPU importing pytest, the
harness, schemathesis, hypothesis, FastAPI and the reference server before
its first check (measured on one area's run: 3.4 s of CPU from a fresh
interpreter, 1.4 s forked), which on CI's two cores was about a third of the
project's tests.

A fork server (`python -m tests.fork_runs`, one per test process, started
at its first run) imports those modules and nothing else, and never runs
anything: for each run it forks a child that is the command line `python -m
pytest ARGS` in `cwd` (`_console_main`, what pytest's `__main__` calls), its
stdin /dev/null and its stdout and stderr in two files, and that exits as
that process would (SystemExit: atexit handlers and all). The child starts
from the server's untouched state, so nothing is left over from the process
that asks nor from an earlier run.

What it imports is what a real run does not rewrite: pytest's own modules,
libraries without a pytest11 entry point, and the distributions whose
rewrite marks the harness takes back (`rewrite_scope.NOT_REWRITTEN`); never
the plugin's `pytest_plugins` modules, which pytest rewrites by its own rule
(`serve` refuses to start if one was imported). In the child, pytest's marks
for those distributions are dropped as they are made, which is what
`rewrite_scope.unmark_dependencies` does in a fresh process right after
(pytest would otherwise warn that they are imported already).

`harness_process` forks the command when it is exactly that, started in
the checkout with the environment of the tests; any other (another
directory, whose own folder `python -m` puts on the path; another
environment, some of which only a starting interpreter reads) runs fresh,
as does every one under `BSK_FRESH_HARNESS_PROCESS=1`.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRESH_PROCESS = "BSK_FRESH_HARNESS_PROCESS"

#: Imported once by the server: what every harness run imports before its first check.
PREIMPORTED = (
    "pytest",
    "_pytest.pytester",
    "httpx",
    "jwt",
    "pyotp",
    "jinja2",
    "fastapi",
    "uvicorn",
    "hypothesis",
    "schemathesis",
    "schemathesis.openapi",
    "bsk_conformance.reference_server",
    "bsk_conformance.harness.service",
    "bsk_conformance.harness.rewrite_scope",
)
#: The plugin's own modules, imported by pytest itself (entry point, then `pytest_plugins`).
PLUGIN_MODULE = "bsk_conformance.harness.plugin"


class ForkServerError(RuntimeError):
    pass


# -- the server ----------------------------------------------------------------


def serve() -> None:
    for name in PREIMPORTED:
        importlib.import_module(name)
    from bsk_conformance.harness import rewrite_scope

    plugin_modules = {PLUGIN_MODULE, *_plugin_modules()}
    imported = sorted(plugin_modules & sys.modules.keys())
    if imported:  # pytest would not rewrite them in the child, as it does in a fresh process
        raise SystemExit(f"fork server: {', '.join(imported)} imported before pytest imports it")
    ours = rewrite_scope.not_rewritten_names()
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while line := requests.readline():
        request = json.loads(line)
        answers.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request, ours)  # never returns
        answers.write(json.dumps(_wait(pid, request["timeout"])).encode() + b"\n")
        answers.flush()


def _plugin_modules() -> list[str]:
    """The `pytest_plugins` of the plugin module, read from its source (importing it would spoil them)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(PLUGIN_MODULE)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytest_plugins" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def _child(request: dict, ours: set[str]) -> None:
    from _pytest.assertion.rewrite import AssertionRewritingHook
    from _pytest.config import _console_main  # what `python -m pytest` runs (pytest/__main__.py)

    import pytest

    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    marking = AssertionRewritingHook.mark_rewrite

    def mark_rewrite(self, *names: str) -> None:
        marking(self, *(name for name in names if name not in ours))

    AssertionRewritingHook.mark_rewrite = mark_rewrite
    sys.argv = [str(Path(pytest.__file__).with_name("__main__.py")), *request["args"]]
    raise SystemExit(_console_main())


def _wait(pid: int, timeout: float) -> dict:
    """The child's exit code, or a timeout (the child killed)."""
    deadline = time.monotonic() + timeout
    watch = os.pidfd_open(pid)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"timed_out": True}
            ready, _, _ = select.select([watch], [], [], left)
            if ready:
                _, status = os.waitpid(pid, 0)
                return {"exit_code": os.waitstatus_to_exitcode(status)}
    finally:
        os.close(watch)


# -- the client ----------------------------------------------------------------


class ForkServer:
    """A fork server, started at its first run; a run at a time (one per
    thread in `harness_process`: a thread pool runs several at once)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def run(self, args: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
        """`python -m pytest ARGS` in `cwd`, forked: its exit code and its output (stdout, then stderr)."""
        with self._lock, tempfile.TemporaryDirectory(prefix="bsk-fork-run-") as where:
            streams = (Path(where) / "stdout.txt", Path(where) / "stderr.txt")
            process = self._started()
            request = {"args": list(args), "cwd": str(cwd), "timeout": timeout, "stdout": str(streams[0]),
                       "stderr": str(streams[1])}
            try:
                process.stdin.write(json.dumps(request).encode() + b"\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError as exc:
                self._process = None
                raise ForkServerError(f"the fork server went away: {exc}") from exc
            if not line:
                self._process = None
                raise ForkServerError(f"the fork server exited ({process.wait()})")
            answer = json.loads(line)
            # stdout, then stderr: what a fresh process's two captured streams give, joined
            text = "".join(path.read_text(encoding="utf-8", errors="replace") for path in streams if path.exists())
            if answer.get("timed_out"):
                raise subprocess.TimeoutExpired(["pytest", *args], timeout, output=text)
            return answer["exit_code"], text

    def _started(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.fork_runs"], cwd=ROOT, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._process

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_per_thread = threading.local()  # a server for each thread that asks (tests/faulty/matrix.py runs a pool)


def harness_process(
    command: list[str], cwd: Path = ROOT, timeout: float = 600, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run `command`, a harness command line (tests/harness_command.py), in
    `cwd`: forked when it is `python -m pytest ...` in the checkout with the
    tests' own environment, else in a fresh interpreter. Its exit code and
    its output (stdout, then stderr)."""
    forkable = (command[:3] == [sys.executable, "-m", "pytest"] and Path(cwd).resolve() == ROOT and env is None
                and os.environ.get(FRESH_PROCESS) != "1")
    if not forkable:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        return done.returncode, done.stdout + done.stderr
    server = getattr(_per_thread, "server", None)
    if server is None:
        server = _per_thread.server = ForkServer()
        atexit.register(server.close)
    return server.run(command[3:], ROOT, timeout)


if __name__ == "__main__":
    serve()
