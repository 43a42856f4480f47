"""The change feed (decision 008): a tenant's changes as they happen, or replayed, as an async
iterator. As ``watch()`` of ``@membus/client``: a relay in the vector-store sends the tenant's
events to ``memory.feed.<tenant>.<token>``; a lost message (each carries the sequence of the one
before), a silent relay or a lapsed lease restarts it under a new token from the last event
delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.aio.client import Client as NatsConnection
from nats.aio.msg import Msg

from . import models
from .operations import subject_of

# Events consumed between two renews that report them (flow control of the relay).
RENEW_EVERY_EVENTS = 256

Start = str | datetime | int
Call = Callable[[Mapping[str, Any]], Awaitable[models.WatchReply]]


@dataclass(frozen=True)
class ChangeEvent:
    """One change of a memory, in stream order; ``seq + 1`` as ``start`` resumes after it."""

    seq: int
    change: str
    id: uuid.UUID
    at: str
    memory: models.MemoryRecord | None


def start_of(start: Start) -> Any:
    """``"now"``, a datetime (replay from then) or a sequence (inclusive) -> the wire form."""
    if start == "now":
        return "now"
    if isinstance(start, datetime):
        return {"time": start.isoformat()}
    if isinstance(start, int) and not isinstance(start, bool) and start >= 1:
        return {"seq": start}
    raise ValueError(f"start: 'now', a datetime or a sequence >= 1, not {start!r}")


class ChangeStream:
    """``async for change in memory.watch(...)``; ``async with`` or ``close()`` stops the relay."""

    def __init__(
        self, nc: NatsConnection, tenant: str, call: Call, watch_filter: dict[str, Any], start: Any
    ) -> None:
        self._nc = nc
        self._tenant = tenant
        self._call = call
        self._filter = watch_filter
        self._start = start
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._token = ""
        self._subscription: Any = None
        self._reply: models.WatchReply | None = None
        self._resume = 0
        self._last = 0
        self._consumed_since_renew = 0
        self._heard_at = time.monotonic()
        self._renewed_at = time.monotonic()
        self._timer: asyncio.Task[None] | None = None
        self._closed = False
        self.start_seq = 0
        self.truncated = False

    async def __aenter__(self) -> ChangeStream:
        await self.started()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def __aiter__(self) -> ChangeStream:
        return self

    async def started(self) -> None:
        """Starts the relay (once); the first ``__anext__`` does it too."""
        if self._reply is None:
            reply = await self._begin(self._start)
            self.start_seq, self.truncated = reply.startSeq, reply.truncated
            self._resume = reply.startSeq
            self._timer = asyncio.create_task(self._tick())

    async def __anext__(self) -> ChangeEvent:
        await self.started()
        while True:
            if self._closed:
                raise StopAsyncIteration
            message = await self._queue.get()
            if message.get("type") == "closed":
                raise StopAsyncIteration
            if message["previous"] > self._last:
                await self._restart()
                continue
            if message["type"] != "event" or message["seq"] <= self._last:
                continue
            self._last = message["seq"]
            self._resume = self._last + 1
            self._consumed_since_renew += 1
            if self._consumed_since_renew >= RENEW_EVERY_EVENTS:
                await self._renew()
            event = message["event"]
            memory = event.get("memory")
            return ChangeEvent(
                seq=message["seq"],
                change=event["change"],
                id=uuid.UUID(event["id"]),
                at=event["at"],
                memory=models.MemoryRecord.model_validate(memory) if memory else None,
            )

    async def close(self) -> None:
        """Stops the relay and ends the iteration."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._subscription is not None:
            await self._subscription.unsubscribe()
        self._queue.put_nowait({"type": "closed"})
        if self._token:
            # The relay's lease ends it anyway.
            with contextlib.suppress(Exception):
                await self._call({"token": self._token, "action": "stop"})

    async def _begin(self, start: Any) -> models.WatchReply:
        """Subscribes under a new token, then starts its relay (so nothing it sends is missed)."""
        token = uuid.uuid4().hex
        if self._subscription is not None:
            await self._subscription.unsubscribe()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._token = token

        async def on_message(message: Msg) -> None:
            if self._token != token:
                return
            try:
                value = json.loads(message.data)
            except ValueError:
                return
            if isinstance(value, dict) and value.get("type") in ("event", "heartbeat"):
                self._heard_at = time.monotonic()
                self._queue.put_nowait(value)

        self._subscription = await self._nc.subscribe(
            subject_of("feed", self._tenant, token), cb=on_message
        )
        body: dict[str, Any] = {"token": token, "action": "start", "from": start}
        if self._filter:
            body["filter"] = self._filter
        self._reply = await self._call(body)
        self._heard_at = self._renewed_at = time.monotonic()
        self._consumed_since_renew = 0
        return self._reply

    async def _restart(self) -> None:
        old = self._token
        await self._begin({"seq": max(1, self._resume)})
        # Its lease ends it anyway.
        with contextlib.suppress(Exception):
            await self._call({"token": old, "action": "stop"})

    async def _renew(self) -> None:
        self._consumed_since_renew = 0
        self._renewed_at = time.monotonic()
        reply = await self._call({"token": self._token, "action": "renew", "consumed": self._last})
        if not reply.active and not self._closed:
            await self._restart()

    async def _tick(self) -> None:
        reply = self._reply
        assert reply is not None
        while not self._closed:
            await asyncio.sleep(reply.heartbeatMs / 2000)
            now = time.monotonic()
            try:
                if now - self._heard_at > 3 * reply.heartbeatMs / 1000:
                    await self._restart()
                elif now - self._renewed_at >= reply.leaseMs / 3000:
                    await self._renew()
            except Exception:  # noqa: BLE001 - tried again at the next tick
                continue
