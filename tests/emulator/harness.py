"""Starts and stops one emulator (server.py) for a test module, on a free loopback port.

The server exits when its standard input closes, so it never outlives the tests."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def start_server() -> tuple[subprocess.Popen, str]:
    """(the server process, its endpoint); no AWS configuration file of the machine is read."""
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    server = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    assert line.startswith("READY http://127.0.0.1:"), line
    return server, line.split()[1]


def stop_server(server: subprocess.Popen | None) -> None:
    if server is None:
        return
    server.stdin.close()  # the server exits on stdin EOF
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    server.stdout.close()
