"""A loopback TCP proxy in front of PostgreSQL that the outage drill cuts and restores.

It runs its own event loop in a thread, so that the app's synchronous database work (and
the test's own) never waits on the loop the proxy needs. ``cut`` drops every open
connection and stops listening (a new connection is refused at once, as when the server
is down); ``restore`` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

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
