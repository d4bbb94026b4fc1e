"""The database taken away and given back (:class:`Outage`): for PostgreSQL, a loopback
TCP proxy in front of it that is cut and restored; for SQLite, another process's write
lock held.

It runs its own event loop in a thread, so that the app's synchronous database work (and
the test's own) never waits on the loop the proxy needs. ``cut`` drops every open
connection and stops listening (a new connection is refused at once, as when the server
is down); ``restore`` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

from sqlalchemy import make_url

from tests.drills.processes import free_port


class Proxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-proxy",
                                       daemon=True)
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.cuts = 0

    def start(self) -> None:
        self.thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        self.cuts += 1
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _call(self, work: object) -> None:
        asyncio.run_coroutine_threadsafe(work, self.loop).result(10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()  # refuse new connections
            self.server = None
        for writer in list(self.links):
            writer.transport.abort()  # drop the open ones, as a lost network would
        self.links.clear()

    async def _link(self, client_r: asyncio.StreamReader,
                    client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self.links |= {client_w, server_w}
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        self.links.discard(writer)
        writer.transport.abort()


class Outage:
    """Takes the database away and gives it back; ``url`` is what the app connects to."""

    def __init__(self, db_url: str, proxy: Proxy | None) -> None:
        self.db_url, self.proxy = db_url, proxy
        self.url = db_url if proxy is None else make_url(db_url).set(
            host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        self.holder: sqlite3.Connection | None = None

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        path = make_url(self.db_url).database
        assert path
        self.holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.holder.execute("BEGIN IMMEDIATE")  # another writer, holding the lock

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        elif self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None
