"""Memories through the Python client on the real stack: store and query with read-your-writes,
filters, paging, update and history, delete, stats, errors and tenant isolation."""

from __future__ import annotations

import membus


async def test_store_then_query_finds_the_memory(acme: membus.MemoryClient) -> None:
    stored = await acme.store(
        {"text": "The payments API is deployed with Helm on EKS", "namespace": "py-roundtrip"},
        wait="queryable",
    )
    result = await acme.query("how is the payments api deployed", filter={"namespace": "py-roundtrip"})
    assert (stored.status, [hit.memory.id for hit in result.hits]) == ("stored", [stored.id])
