"""The change feed through the Python client (decision 008): from now, resumed from a sequence,
and never another tenant's events."""

from __future__ import annotations

import asyncio
import uuid

import membus


async def test_watch_from_now_then_resume_from_a_sequence(acme: membus.MemoryClient) -> None:
    namespace = f"py-watch-{uuid.uuid4().hex[:8]}"
    async with acme.watch({"namespace": namespace}, changes=["created"]) as feed:
        stored = await acme.store(
            {"text": "Watched from Python", "namespace": namespace}, wait="queryable"
        )
        change = await asyncio.wait_for(feed.__anext__(), 20)
    assert (change.change, change.id, change.memory and change.memory.text) == (
        "created",
        stored.id,
        "Watched from Python",
    )
    async with acme.watch({"namespace": namespace}, start=change.seq) as replay:
        again = await asyncio.wait_for(replay.__anext__(), 20)
    assert (again.seq, again.id) == (change.seq, stored.id)


async def test_watch_never_carries_another_tenants_events(
    acme: membus.MemoryClient, globex: membus.MemoryClient
) -> None:
    secret = await acme.store({"text": "Acme only: the watch must not leak it"}, wait="queryable")
    marker = membus.uuid7()
    # From the first sequence, filtered to acme's memory and globex's own marker: in stream order
    # acme's event would come first, so the marker being first proves it never passes.
    async with globex.watch({"ids": [str(secret.id), str(marker)]}, start=1) as feed:
        await globex.store({"id": str(marker), "text": "Globex marker"}, wait="queryable")
        first = await asyncio.wait_for(feed.__anext__(), 20)
    assert (first.id, first.change) == (marker, "created")
