"""A real ``coach serve`` process (or the container's start script) on a free port, its
output kept in files, polled over HTTP: the tests of the start script and of a stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)  # where ``coach`` is installed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """``command`` (``--host``/``--port`` added) run from the repository with ``env``."""

    def __init__(self, command: list[str], folder: Path, name: str, *, cwd: Path = ROOT,
                 **env: str) -> None:
        self.port = free_port()
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                       "COACH_ENV": "test", **env}
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port)], cwd=cwd,
                env=environment, stdout=out, stderr=err)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    async def answers(self, path: str, status: int = 200, timeout: float = 120.0) -> None:
        """Wait until GET ``path`` answers ``status``."""
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                assert self.proc.poll() is None, self.output()[-4000:]
                try:
                    async with http.get(self.url + path) as response:
                        if response.status == status:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    async def exit_code(self, timeout: float = 60.0) -> int:
        async with asyncio.timeout(timeout):
            while (code := self.proc.poll()) is None:
                await asyncio.sleep(0.05)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
