"""A warm ``suiren``: a server that has imported the CLI and forks one child per command.

A shell script that calls ``suiren`` some thirty times (the README's tour) spends most of its time
importing the same modules each time. This server imports ``suiren.cli.main`` once and
waits on a Unix socket; the client (``python -S tests/cli_forkserver.py --client ARGS``, put
on the script's PATH as ``suiren``) passes its standard input, output and error (as file
descriptors), its arguments, environment and working directory; the server forks, and the
child runs ``suiren.cli.main.main()`` with exactly those, then reports its exit status. The
command itself runs as it would from the installed entry point (that is proven by the
subprocess smoke tests in tests/cli): same code, same files, same exit statuses — only the
imports are done already (the CLI's modules and every module of the services and the store
its commands import when they run: each command paid for them again, nine tenths of a
forked command's CPU in the tour), the packaged parameter tree is read (``load_policy`` for
each scenario: package data, the same for every command, cached by the CLI's own
``functools.cache``) and the formulas' compiled loops are loaded from numba's cache
(``policy.warm.warm_compiled``, as ``suiren serve`` does as it starts: about a second each
command that calculates a pension). Nothing else is done before the fork (no settings, no
database).

Test infrastructure only, never shipped; POSIX only.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import socket
import sys

SOCKET_ENV = "SUIREN_TEST_FORKSERVER"
MESSAGE_BYTES_MAX = 1 << 20


def serve(path: str) -> None:
    import suiren.cli.main  # noqa: F401  (the point: imported once, before any fork)
    from suiren.policy import SCENARIOS, load_policy
    from suiren.policy.warm import warm_compiled

    for package in ("suiren.cli", "suiren.services", "suiren.store"):
        for module in pkgutil.walk_packages(
            importlib.import_module(package).__path__, f"{package}."
        ):
            if ".migrations" not in module.name:  # Alembic loads those itself, each upgrade
                importlib.import_module(module.name)
    for scenario in SCENARIOS:
        load_policy(scenario)
    warm_compiled(load_policy())

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        message, fds, _flags, _address = socket.recv_fds(connection, MESSAGE_BYTES_MAX, 3)
        if not message:  # the test is done
            connection.close()
            return
        if os.fork() == 0:
            server.close()
            status = _run_child(json.loads(message), fds)
            connection.sendall(str(status).encode())
            os._exit(status)
        for fd in fds:
            os.close(fd)
        connection.close()
        _reap()


def _run_child(request: dict[str, object], fds: list[int]) -> int:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    sys.argv = ["suiren", *request["argv"]]  # type: ignore[misc]
    from suiren.cli.main import main

    try:
        main()
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return status


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def client(argv: list[str]) -> int:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(os.environ[SOCKET_ENV])
    request = {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}
    socket.send_fds(connection, [json.dumps(request).encode()], [0, 1, 2])
    status = b""
    while chunk := connection.recv(16):
        status += chunk
    return int(status or b"1")


def stop(path: str) -> None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    connection.close()


if __name__ == "__main__":
    if sys.argv[1] == "--client":
        raise SystemExit(client(sys.argv[2:]))
    serve(sys.argv[1])
