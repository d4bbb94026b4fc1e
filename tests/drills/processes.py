"""Real ``coach`` processes for the drills, started a hundred times a drill.

Each is a process of its own running the CLI's ``main`` (``coach serve``, ``coach chat
--jsonl``) from the first line, killed with a real SIGKILL. Starting a Python process
that imports the app takes about 6 s on a loaded machine, so the processes are forked
from a multiprocessing forkserver that imported the app once (``PRELOAD``): each start then
costs a fork, not an import. A chat process speaks the console protocol over a loopback
socket instead of a pipe (its stdin and stdout are the socket); every process writes its
log (stderr) to a file of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PRELOAD = ["bot.cli.main", "bot.server", "bot.surfaces", "bot.console.chat",
           "bot.slack.app", "bot.rhythm.hosting"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_coach(argv: Sequence[str], env: Mapping[str, str], log: str,
              talk_to: int | None) -> None:
    """The child: ``coach <argv>`` with ``env``, its log in ``log``; with ``talk_to``, its
    stdin and stdout are a connection to that loopback port (the console protocol)."""
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    if talk_to is not None:
        connection = socket.create_connection(("127.0.0.1", talk_to))
        sys.stdin = connection.makefile("r", encoding="utf-8", errors="surrogateescape")
        sys.stdout = connection.makefile("w", encoding="utf-8")
    else:
        os.dup2(fd, 1)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    from bot.cli.main import main

    code = main(list(argv))
    sys.stdout.flush()
    os._exit(code)


class Forks:
    """Starts ``coach`` processes from the preloaded forkserver; kills them with SIGKILL."""

    def __init__(self, logs: Path) -> None:
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)
        self.logs = logs
        self.started = 0
        self.kills = 0
        self.alive: list[Any] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str],
              talk_to: int | None = None) -> Any:
        self.started += 1
        log = self.logs / f"{name}.log"
        process = self.context.Process(target=run_coach, args=(list(argv), dict(env),
                                                               str(log), talk_to),
                                       name=name, daemon=True)
        process.start()
        process.log = log
        self.alive.append(process)
        return process

    def kill(self, process: Any) -> None:
        """kill -9, and wait for it to be gone."""
        if process.is_alive():
            os.kill(process.pid, 9)
            self.kills += 1
        process.join(10)
        self._forget(process)

    def stop(self, process: Any, timeout: float = 30) -> int | None:
        """A graceful stop (SIGINT, as an orchestrator would); its exit code."""
        if process.is_alive():
            os.kill(process.pid, 2)
        process.join(timeout)
        if process.is_alive():
            os.kill(process.pid, 9)
            process.join(10)
        code = process.exitcode
        self._forget(process)
        return code

    def _forget(self, process: Any) -> None:
        if process in self.alive:
            self.alive.remove(process)
        process.close()

    def close(self) -> None:
        for process in list(self.alive):
            self.kill(process)


class Chat:
    """One ``coach chat --jsonl --as EMAIL`` process, spoken to line by line."""

    def __init__(self, forks: Forks, name: str, actor: str, env: Mapping[str, str]) -> None:
        self.forks, self.name, self.actor, self.env = forks, name, actor, env
        self.process: Any = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.starts = 0

    async def open(self) -> None:
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future())

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not connected.done():
                connected.set_result((reader, writer))

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.starts += 1
        self.process = self.forks.start(f"{self.name}-{self.starts}",
                                        ["chat", "--jsonl", "--as", self.actor], self.env,
                                        talk_to=port)
        try:
            self.reader, self.writer = await asyncio.wait_for(connected, 60)
        finally:
            server.close()  # no more connections; (wait_closed would wait for this one)

    async def send(self, line: str) -> None:
        assert self.writer is not None
        self.writer.write(line.encode() + b"\n")
        await self.writer.drain()

    async def replies(self) -> list[dict[str, Any]] | None:
        """The lines up to ``{"done": true}`` (or an error); None when the process died."""
        import json

        assert self.reader is not None
        out: list[dict[str, Any]] = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                return None
            reply = json.loads(raw)
            out.append(reply)
            if reply == {"done": True} or "error" in reply:
                return out

    async def kill(self) -> None:
        self.forks.kill(self.process)
        await self._close_stream()

    async def close(self) -> None:
        """End of input: the process finishes and exits."""
        if self.writer is not None:
            self.writer.write_eof()
        if self.process is not None:
            await asyncio.to_thread(self.process.join, 30)
            if self.process.is_alive():
                self.forks.kill(self.process)
            else:
                self.forks._forget(self.process)
        await self._close_stream()

    async def _close_stream(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None
