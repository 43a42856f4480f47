"""Memories in and out of a tenant, as ``@membus/client``'s export-import.ts: export lines as an
async iterator, import with bounded concurrency and a summary, batch updates.

The line format is ``ExportedMemory`` version 1 (docs/export-format.md): one JSON object a line,
``{"v": 1, "memory": {...}, "history"?: [...], "vector"?: {...}}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from . import models
from .errors import MembusError
from .operations import BATCH_SIZE

if TYPE_CHECKING:
    from .client import Input, MemoryClient

#: An import request carries at most this many bytes of lines (the reply budget of the contract).
REQUEST_LINE_BYTES = 192 * 1024


async def export_memories(
    client: MemoryClient,
    filter: Input | None = None,
    *,
    with_history: bool = False,
    with_vectors: bool = False,
    page_size: int = 200,
) -> AsyncIterator[dict[str, Any]]:
    """Every memory of the tenant matching ``filter``, newest first, as export lines (dicts in
    the wire's field names), one page in memory at a time."""
    cursor: str | None = None
    while True:
        body: dict[str, Any] = {
            "limit": page_size,
            "withHistory": with_history,
            "withVectors": with_vectors,
        }
        if filter:
            body["filter"] = (
                filter.model_dump(mode="json", exclude_unset=True)
                if isinstance(filter, BaseModel)
                else dict(filter)
            )
        if cursor:
            body["cursor"] = cursor
        page = await client._call("export", body, models.ExportReply)
        for line in page.lines:
            yield line.model_dump(mode="json", exclude_none=True)
        cursor = page.nextCursor
        if not cursor:
            return


@dataclass
class ImportFailure:
    """Why one line was not imported."""

    line: int
    status: Literal["conflict", "failed"]
    code: str
    message: str
    id: str | None = None


@dataclass
class ImportSummary:
    """What an import did: counts, and the lines that were not imported."""

    read: int = 0
    imported: int = 0
    present: int = 0
    overwritten: int = 0
    conflicts: int = 0
    failed: int = 0
    failures: list[ImportFailure] = field(default_factory=list)


async def import_memories(
    client: MemoryClient,
    lines: AsyncIterable[Any] | Iterable[Any],
    *,
    on_conflict: Literal["report", "overwrite"] = "report",
    batch_size: int = 200,
    concurrency: int = 4,
) -> ImportSummary:
    """Imports export lines (dicts, or NDJSON text lines) into the tenant: each validated (a bad
    line is a failure in the summary), sent in batches with at most ``concurrency`` requests in
    flight. Ids are kept and a line imported twice is one memory, so a rerun is safe."""
    summary = ImportSummary()
    batch_size = max(1, min(BATCH_SIZE, batch_size))
    in_flight: set[asyncio.Task[None]] = set()

    def fail(
        number: int, status: Literal["conflict", "failed"], error: Mapping[str, Any], id: str | None
    ) -> None:
        if status == "conflict":
            summary.conflicts += 1
        else:
            summary.failed += 1
        summary.failures.append(
            ImportFailure(
                number,
                status,
                str(error.get("code", "INTERNAL")),
                str(error.get("message", status)),
                id,
            )
        )

    async def send(numbers: list[int], batch: list[dict[str, Any]]) -> None:
        try:
            reply = await client._call(
                "import", {"memories": batch, "onConflict": on_conflict}, models.ImportReply
            )
            results = [
                result.model_dump(mode="json", exclude_none=True) for result in reply.results
            ]
        except MembusError as error:
            body = {"code": error.code, "message": str(error)}
            results = [
                {"id": line["memory"].get("id"), "status": "failed", "error": body}
                for line in batch
            ]
        for number, result in zip(numbers, results, strict=True):
            status = result["status"]
            if status == "imported":
                summary.imported += 1
            elif status == "present":
                summary.present += 1
            elif status == "overwritten":
                summary.overwritten += 1
            else:
                fail(number, status, result.get("error", {}), result.get("id"))

    async def dispatch(numbers: list[int], batch: list[dict[str, Any]]) -> None:
        while len(in_flight) >= max(1, concurrency):
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(send(numbers, batch))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    numbers: list[int] = []
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    number = 0
    async for item in _items(lines):
        number += 1
        if isinstance(item, str) and not item.strip():
            continue
        summary.read += 1
        checked = _check_line(item)
        if isinstance(checked, MembusError):
            line_id = item.get("memory", {}).get("id") if isinstance(item, dict) else None
            fail(number, "failed", {"code": checked.code, "message": str(checked)}, line_id)
            continue
        line, size = checked
        if batch and (len(batch) >= batch_size or batch_bytes + size > REQUEST_LINE_BYTES):
            await dispatch(numbers, batch)
            numbers, batch, batch_bytes = [], [], 0
        numbers.append(number)
        batch.append(line)
        batch_bytes += size + 1
    if batch:
        await dispatch(numbers, batch)
    if in_flight:
        await asyncio.gather(*in_flight)
    summary.failures.sort(key=lambda failure: failure.line)
    return summary


async def update_many(
    client: MemoryClient,
    changes: Mapping[str, Any],
    *,
    ids: Iterable[Any] | None = None,
    filter: Input | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Changes memories by ``ids`` (any number) or by a non-empty ``filter`` (page by page);
    memories that already have the values are left alone. Returns updated/unchanged/missing."""
    if (ids is None) == (filter is None):
        raise MembusError("INVALID_MESSAGE", "give ids or filter")
    result: dict[str, Any] = {"updated": 0, "unchanged": 0, "missing": []}

    async def send(body: dict[str, Any]) -> str | None:
        body = {**body, "changes": dict(changes), **({"reason": reason} if reason else {})}
        reply = await client._call("batchUpdate", body, models.BatchUpdateReply)
        result["updated"] += reply.updated
        result["unchanged"] += reply.unchanged
        result["missing"].extend(str(missing) for missing in reply.missing)
        return reply.nextCursor

    if ids is not None:
        listed = [str(memory_id) for memory_id in ids]
        for start in range(0, len(listed), BATCH_SIZE):
            await send({"ids": listed[start : start + BATCH_SIZE]})
        return result
    wire_filter = (
        filter.model_dump(mode="json", exclude_unset=True)
        if isinstance(filter, BaseModel)
        else dict(filter or {})
    )
    cursor: str | None = None
    while True:
        cursor = await send({"filter": wire_filter, **({"cursor": cursor} if cursor else {})})
        if not cursor:
            return result


async def _items(lines: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(lines, AsyncIterable):
        async for item in lines:
            yield item
    else:
        for item in lines:
            yield item


def _check_line(item: Any) -> tuple[dict[str, Any], int] | MembusError:
    """A line parsed (when text) and validated by the contract's model, or why not."""
    value = item
    if isinstance(item, str):
        try:
            value = json.loads(item)
        except json.JSONDecodeError as error:
            return MembusError("INVALID_MESSAGE", f"not JSON: {error}")
    if (
        isinstance(value, dict)
        and isinstance(value.get("memory"), dict)
        and "tenant" in value["memory"]
    ):
        return MembusError(
            "INVALID_MESSAGE",
            "memory.tenant: lines carry no tenant; "
            "a line is imported into the tenant of the connection",
        )
    try:
        models.ImportRequest.model_validate({"v": 1, "memories": [value]})
    except ValidationError as error:
        issue = error.errors()[0]
        where = ".".join(str(part) for part in issue["loc"][2:]) or "(line)"
        code = "LIMIT_EXCEEDED" if "too_long" in issue["type"] else "INVALID_MESSAGE"
        return MembusError(code, f"{where}: {issue['msg']}")
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > REQUEST_LINE_BYTES:
        return MembusError(
            "LIMIT_EXCEEDED",
            f"the line is {size} bytes; a request carries at most {REQUEST_LINE_BYTES}",
        )
    return value, size
