"""`make run` on a port already taken says so, and how to pick another, before doing anything."""

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "port-free"


def probe(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCRIPT, "127.0.0.1", str(port)],
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )


def test_a_port_in_use_is_named_with_the_command_that_serves_on_another():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = probe(port)
    assert done.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in done.stderr
    assert f"make run PORT={port + 1}" in done.stderr


def test_a_free_port_passes_silently():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    done = probe(port)
    assert (done.returncode, done.stderr) == (0, "")
