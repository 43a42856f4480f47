"""Export and import through the Python client on the real stack: a namespace exported from one
tenant and imported into another reads back as the same lines; a repeat is all present; a bad
line is a failure in the summary; batch updates by filter are idempotent."""

from __future__ import annotations

import json
import uuid

import membus


async def test_export_import_round_trip_and_repeat(
    acme: membus.MemoryClient, globex: membus.MemoryClient
) -> None:
    namespace = f"py-export-{uuid.uuid4().hex[:8]}"
    # Ten: the short tier's default capacity. More would have the compactor demoting the
    # overflow to mid while the two exports read, each catching a different moment.
    await acme.store_many(
        [{"text": f"exported memory {index}", "namespace": namespace} for index in range(10)],
        wait="queryable",
    )
    lines = [line async for line in acme.export_memories({"namespace": namespace})]
    bad = json.dumps({"v": 1, "memory": {"id": str(uuid.uuid4()), "text": "x", "tenant": "acme"}})
    first = await globex.import_memories([*lines, bad])
    again = await globex.import_memories(lines)
    copied = [line async for line in globex.export_memories({"namespace": namespace})]
    assert (
        len(lines),
        (first.imported, first.failed, [failure.line for failure in first.failures]),
        (again.imported, again.present),
        copied,
    ) == (10, (10, 1, [11]), (0, 10), lines)


async def test_update_many_by_filter_is_idempotent(acme: membus.MemoryClient) -> None:
    namespace = f"py-batch-{uuid.uuid4().hex[:8]}"
    await acme.store_many(
        [{"text": f"batch memory {index}", "namespace": namespace} for index in range(5)],
        wait="queryable",
    )
    first = await acme.update_many({"tier": "long"}, filter={"namespace": namespace})
    second = await acme.update_many({"tier": "long"}, filter={"namespace": namespace})
    assert (first, second) == (
        {"updated": 5, "unchanged": 0, "missing": []},
        {"updated": 0, "unchanged": 5, "missing": []},
    )
