"""A typed, tenant-bound handle on membus over NATS: the operations of ``@membus/client``.

One module on purpose (over 400 lines): ``MemoryClient`` is the API, a method per operation;
export/import, ingest and watch are modules of their own.
"""

from __future__ import annotations

import asyncio
import builtins  # inside MemoryClient, `list` is the operation: builtins.list in annotations
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsConnection
from nats.aio.msg import Msg
from pydantic import BaseModel, ValidationError

from . import export_import, models
from .errors import MembusError, error_from_body, validation_error
from .ingest import IngestResult
from .operations import (
    BATCH_SIZE,
    DEFAULT_TENANT,
    MESSAGE_BYTES,
    NOTIFY_HEADER,
    TENANT_PATTERN,
    subject_of,
)
from .watch import ChangeStream, Start, start_of

Reply = TypeVar("Reply", bound=BaseModel)
Input = Mapping[str, Any] | BaseModel
IdLike = str | uuid.UUID


@dataclass(frozen=True)
class StoreResult:
    """A store: its id; with ``wait='queryable'`` also ``status`` and the ``memory_id`` that
    holds the content (another memory's for a ``duplicate``). ``dropped``: the tenant's ingest
    policy left it out, ``policy`` says why (``{"version", "rule", "reason"}``)."""

    id: uuid.UUID
    status: Literal["stored", "duplicate", "merged", "dropped"] | None = None
    memory_id: uuid.UUID | None = None
    policy: dict[str, Any] | None = None


@dataclass(frozen=True)
class QueryResult:
    hits: list[models.QueryHit]
    mode: Literal["dense", "keyword", "hybrid"]
    plan: str
    took_ms: float
    truncated: bool = False
    omitted: int = 0


@dataclass(frozen=True)
class ListPage:
    memories: list[models.MemoryRecord]
    next_cursor: str | None = None


@dataclass(frozen=True)
class GetManyResult:
    memories: list[models.MemoryRecord] = field(default_factory=list)
    missing: list[uuid.UUID] = field(default_factory=list)


def uuid7() -> uuid.UUID:
    """A UUIDv7 (time-ordered), as the TypeScript client's ids."""
    millis = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | ((random >> 62) & 0xFFF) << 64
    value |= 0b10 << 62 | (random & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _body(value: Input | None, options: Mapping[str, Any]) -> dict[str, Any]:
    """A wire body: a mapping or model (contract field names) with keyword options over it
    (snake_case names, ``top_k`` -> ``topK``); options left at None are not sent."""
    if isinstance(value, BaseModel):
        body = value.model_dump(mode="json", exclude_unset=True)
    else:
        body = dict(value or {})
    body.update({_camel(key): option for key, option in options.items() if option is not None})
    return body


def _check(model: type[Reply], body: Mapping[str, Any]) -> Reply:
    try:
        return model.model_validate({**body, "v": 1})
    except ValidationError as error:
        raise validation_error(error) from None


def _encode(model: BaseModel) -> bytes:
    return json.dumps(
        model.model_dump(mode="json", exclude_unset=True, by_alias=True),
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _transport_error(error: Exception, subject: str) -> MembusError:
    if isinstance(error, (nats.errors.NoRespondersError, nats.js.errors.NoStreamResponseError)):
        return MembusError("UNAVAILABLE", f"no service answers {subject}")
    if isinstance(error, (nats.errors.TimeoutError, asyncio.TimeoutError)):
        return MembusError("TIMEOUT", f"no reply on {subject} in time")
    return MembusError("UNAVAILABLE", f"request on {subject} failed: {error}")


_DENIED = re.compile(r'Permissions Violation for (\w+) to "([^"]+)"', re.IGNORECASE)


class Denials:
    """NATS permission violations by subject. The server reports them asynchronously (to the
    connection's error callback), so a call waits on its reply and on a denial of its subject,
    whichever comes first: a denied subject is INVALID_TENANT at once, not a timeout."""

    def __init__(self) -> None:
        self._watching: dict[str, set[asyncio.Future[str]]] = {}

    async def report(self, error: Exception) -> None:
        denied = _DENIED.search(str(error))
        if denied is None:
            return
        for future in self._watching.get(denied.group(2), set()):
            if not future.done():
                future.set_result(denied.group(1).lower())

    async def guard(self, subject: str, operation: Any) -> Any:
        denied: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._watching.setdefault(subject, set()).add(denied)
        task = asyncio.ensure_future(operation)
        try:
            await asyncio.wait({task, denied}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                return task.result()
            task.cancel()
            raise MembusError(
                "INVALID_TENANT",
                f"not permitted to {denied.result()} on {subject} (NATS permissions)",
                details={"subject": subject, "operation": denied.result()},
            )
        finally:
            watchers = self._watching.get(subject, set())
            watchers.discard(denied)
            if not watchers:
                self._watching.pop(subject, None)


class MemoryClient:
    """A typed, tenant-bound handle on membus. Create it with :func:`connect`."""

    def __init__(
        self,
        nc: NatsConnection,
        *,
        tenant: str,
        owns_connection: bool,
        timeout: float,
        denials: Denials | None = None,
    ) -> None:
        self.tenant = tenant
        self._denials = denials or Denials()
        self._nc = nc
        self._js = nc.jetstream()
        self._owns_connection = owns_connection
        self._timeout = timeout
        # Store notices for this client: `memory.notice.<tenant>.<token>` (the services take the
        # tenant from the store's subject, so only this tenant can ever receive them).
        self._notice_token = uuid.uuid4().hex
        self._waiting: dict[uuid.UUID, asyncio.Future[models.NoticeMessage]] = {}
        self._notices: Any = None
        self._listening = asyncio.Lock()

    @property
    def connection(self) -> NatsConnection:
        """The underlying NATS connection (for advanced use)."""
        return self._nc

    async def __aenter__(self) -> MemoryClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ memories

    async def store(
        self,
        memory: Input | None = None,
        *,
        wait: Literal["accepted", "queryable"] = "accepted",
        timeout: float = 30.0,
        **fields: Any,
    ) -> StoreResult:
        """Stores a memory durably; ``wait='queryable'`` returns once it can be queried."""
        [result] = await self.store_many([_body(memory, fields)], wait=wait, timeout=timeout)
        return result

    async def store_many(
        self,
        memories: Sequence[Input],
        *,
        wait: Literal["accepted", "queryable"] = "accepted",
        timeout: float = 30.0,
    ) -> list[StoreResult]:
        """Stores many memories (pipelined); results in input order."""
        if len(memories) > BATCH_SIZE:
            raise MembusError(
                "LIMIT_EXCEEDED",
                f"at most {BATCH_SIZE} memories per store_many",
                details={"limit": BATCH_SIZE, "actual": len(memories)},
            )
        messages = []
        for memory in memories:
            body = _body(memory, {})
            messages.append(_check(models.StoreMessage, {**body, "id": body.get("id") or uuid7()}))
        # One id twice would be one memory with one notice: refused before anything is published.
        ids: set[uuid.UUID] = set()
        for message in messages:
            if message.id in ids:
                raise MembusError(
                    "INVALID_MESSAGE",
                    f"id {message.id} appears twice in one store_many",
                    details={"id": str(message.id)},
                )
            ids.add(message.id)
        queryable = wait == "queryable"
        if queryable:
            await self._listen()
        loop = asyncio.get_running_loop()
        notices = {message.id: loop.create_future() for message in messages} if queryable else {}
        self._waiting.update(notices)
        headers = {NOTIFY_HEADER: self._notice_token} if queryable else None
        subject = subject_of("store", self.tenant)
        deadline = loop.time() + timeout
        try:
            # An agent's store: no JetStream de-duplication id (see storeMemory's policy).
            await asyncio.gather(
                *(self._publish(subject, message, headers) for message in messages)
            )
            if not queryable:
                return [StoreResult(id=message.id) for message in messages]
            return [
                await _settle(memory_id, notice, deadline) for memory_id, notice in notices.items()
            ]
        finally:
            for message in messages:
                self._waiting.pop(message.id, None)

    async def query(
        self,
        text: str | Input | None = None,
        *,
        vector: Sequence[float] | None = None,
        filter: Input | None = None,
        top_k: int | None = None,
        min_score: float | None = None,
        mode: Literal["dense", "keyword", "hybrid"] | None = None,
        weights: Input | None = None,
        recency_half_life_hours: float | None = None,
    ) -> QueryResult:
        """Semantic, keyword or hybrid search: ``text`` is the query text or a whole query."""
        options = {
            "vector": list(vector) if vector is not None else None,
            "filter": filter,
            "top_k": top_k,
            "min_score": min_score,
            "mode": mode,
            "weights": weights,
            "recency_half_life_hours": recency_half_life_hours,
        }
        base = {"text": text} if isinstance(text, str) else text
        reply = await self._call("query", _body(base, options), models.QueryReply)
        return QueryResult(
            hits=reply.hits,
            mode=reply.mode,
            plan=reply.plan,
            took_ms=reply.tookMs,
            truncated=bool(reply.truncated),
            omitted=(reply.omitted or 0) if reply.truncated else 0,
        )

    async def get(self, memory_id: IdLike) -> models.MemoryRecord | None:
        """One memory, or None when it does not exist (or expired)."""
        reply = await self._call("get", {"ids": [str(memory_id)]}, models.GetReply)
        return reply.memories[0] if reply.memories else None

    async def get_many(self, ids: Sequence[IdLike]) -> GetManyResult:
        """Memories by id, fetched in as many replies as their size needs; ``missing`` lists
        the ids that do not exist."""
        result = GetManyResult()
        asked = [str(memory_id) for memory_id in ids]
        while asked:
            reply = await self._call("get", {"ids": asked}, models.GetReply)
            result.memories.extend(reply.memories)
            result.missing.extend(reply.missing)
            pending = reply.pending or []
            # Every reply carries at least one memory when any is pending; never loop without one.
            if pending and not reply.memories:
                raise MembusError(
                    "INTERNAL",
                    "get returned pending ids but no memory",
                    details={"pending": len(pending)},
                )
            asked = [str(memory_id) for memory_id in pending]
        return result

    async def list(
        self, *, filter: Input | None = None, limit: int | None = None, cursor: str | None = None
    ) -> ListPage:
        """One page, newest first; pass ``next_cursor`` back as ``cursor`` (None on the last)."""
        body = _body(None, {"filter": filter, "limit": limit, "cursor": cursor})
        reply = await self._call("list", body, models.ListReply)
        return ListPage(memories=reply.memories, next_cursor=reply.nextCursor or None)

    async def list_all(
        self, filter: Input | None = None, page_size: int = 200
    ) -> AsyncIterator[models.MemoryRecord]:
        """Every matching memory, page by page, each once."""
        cursor: str | None = None
        while True:
            page = await self.list(filter=filter, limit=page_size, cursor=cursor)
            for memory in page.memories:
                yield memory
            cursor = page.next_cursor
            if not cursor:
                return

    async def update(
        self, memory_id: IdLike, changes: Input | None = None, **fields: Any
    ) -> models.MemoryRecord:
        """Changes a memory (``text``, ``metadata``, ``importance``, ...); new text is
        re-embedded."""
        body = {**_body(changes, fields), "id": str(memory_id)}
        return (await self._call("update", body, models.UpdateReply)).memory

    async def delete(self, ids: IdLike | Sequence[IdLike]) -> builtins.list[uuid.UUID]:
        """Deletes by id(s); returns the ids that existed."""
        listed = [ids] if isinstance(ids, (str, uuid.UUID)) else list(ids)
        body = {"ids": [str(memory_id) for memory_id in listed]}
        return (await self._call("delete", body, models.DeleteReply)).ids

    async def delete_where(self, filter: Input) -> builtins.list[uuid.UUID]:
        """Deletes every memory matching a (non-empty) filter, e.g. ``{"sessionId": ...}``."""
        return (await self._call("delete", _body(None, {"filter": filter}), models.DeleteReply)).ids

    async def history(self, memory_id: IdLike) -> builtins.list[models.HistoryEntry]:
        """A memory's whole history, oldest first (fetched page by page)."""
        entries: builtins.list[models.HistoryEntry] = []
        cursor: str | None = None
        while True:
            body = _body(None, {"id": str(memory_id), "cursor": cursor})
            reply = await self._call("history", body, models.HistoryReply)
            entries.extend(reply.entries)
            cursor = reply.nextCursor
            if not cursor:
                return entries

    async def stats(self, filter: Input | None = None) -> models.StatsReply:
        """Counts of live memories matching a filter, by scope, kind, tier, namespace, category."""
        return await self._call("stats", _body(None, {"filter": filter}), models.StatsReply)

    # ------------------------------------------------------------------ export, import, updates

    def export_memories(
        self,
        filter: Input | None = None,
        *,
        with_history: bool = False,
        with_vectors: bool = False,
        page_size: int = 200,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every matching memory as export lines (docs/export-format.md), newest first, one page
        in memory at a time: ``async for line in memory.export_memories(): ...``."""
        return export_import.export_memories(
            self, filter, with_history=with_history, with_vectors=with_vectors, page_size=page_size
        )

    async def import_memories(
        self,
        lines: AsyncIterable[Any] | Iterable[Any],
        *,
        on_conflict: Literal["report", "overwrite"] = "report",
        batch_size: int = 200,
        concurrency: int = 4,
    ) -> export_import.ImportSummary:
        """Imports export lines (dicts or NDJSON text lines) exactly: ids kept, a line imported
        twice is one memory; bad lines are failures in the summary."""
        return await export_import.import_memories(
            self, lines, on_conflict=on_conflict, batch_size=batch_size, concurrency=concurrency
        )

    async def update_many(
        self,
        changes: Mapping[str, Any],
        *,
        ids: Iterable[IdLike] | None = None,
        filter: Input | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Changes memories by ``ids`` or a non-empty ``filter`` (page by page); idempotent."""
        return await export_import.update_many(self, changes, ids=ids, filter=filter, reason=reason)

    # ------------------------------------------------------------------ re-embedding (decision 011)

    async def reembed(self, model: str, *, dry_run: bool = False) -> models.ReembedReply:
        """Starts embedding the tenant's memories with ``model`` beside the current vectors;
        queries switch once it is complete. ``dry_run``: counts and tokens, nothing written."""
        body = _body(None, {"action": "start", "model": model, "dry_run": dry_run or None})
        return await self._call("reembed", body, models.ReembedReply)

    async def reembed_status(self) -> models.ReembedReply:
        """Where the tenant's re-embedding is (``idle`` with the active model when none runs)."""
        return await self._call("reembed", {"action": "status"}, models.ReembedReply)

    async def cancel_reembed(self) -> models.ReembedReply:
        """Stops the tenant's re-embedding: the current vectors stay, the new ones are dropped."""
        return await self._call("reembed", {"action": "cancel"}, models.ReembedReply)

    # ------------------------------------------------------------------ ingest policy (embedder)

    async def policy(self, version: int | None = None) -> models.PolicyGetReply:
        """The tenant's ingest policy (version 0 and no policy without one), or a past version."""
        body = _body(None, {"version": version})
        return await self._call("policyGet", body, models.PolicyGetReply)

    async def put_policy(self, policy: Input, *, expected_version: int) -> models.PolicyPutReply:
        """Replaces the ingest policy as version ``expected_version + 1``; CONFLICT when the
        current version is another (someone changed it meanwhile: read, merge, retry)."""
        body = {"policy": policy, "expectedVersion": expected_version}
        return await self._call("policyPut", body, models.PolicyPutReply)

    async def policy_history(
        self, *, before: int | None = None, limit: int | None = None
    ) -> models.PolicyHistoryReply:
        """The ingest policy's versions, newest first (``before`` pages back)."""
        body = _body(None, {"before": before, "limit": limit})
        return await self._call("policyHistory", body, models.PolicyHistoryReply)

    # ------------------------------------------------------------------ ingest (extractor)

    async def ingest(
        self,
        content: str | Sequence[Input],
        *,
        wait: Literal["durable", "extracted"] = "durable",
        timeout: float = 120.0,
        **fields: Any,
    ) -> IngestResult:
        """Hands conversation turns (``role``, ``content``, ``id``) or free text to the extractor,
        which keeps their facts (decision 010). Returns once durable: the model is never waited
        for, unless ``wait='extracted'`` asks for its decisions. ``fields``: ``user_id``,
        ``session_id``, ``namespace``, ``metadata``, ``categories``, ``extract=False``, ..."""
        turns = None if isinstance(content, str) else [_body(turn, {}) for turn in content]
        body = _body(None, {**fields, "text": content if turns is None else None, "turns": turns})
        message = _check(models.IngestMessage, {**body, "id": body.get("id") or uuid7()})
        if wait != "extracted":
            await self._publish(subject_of("ingest", self.tenant), message)
            return IngestResult(id=message.id)
        token = uuid.uuid4().hex
        notices = await self._nc.subscribe(subject_of("extracted", self.tenant, token), max_msgs=1)
        try:
            await self._publish(subject_of("ingest", self.tenant), message, {NOTIFY_HEADER: token})
            try:
                reply = await notices.next_msg(timeout=timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                raise MembusError(
                    "TIMEOUT",
                    f"ingest {message.id} was not extracted in time",
                    details={"id": str(message.id)},
                ) from None
        finally:
            await notices.unsubscribe()
        notice = models.ExtractedMessage.model_validate_json(reply.data)
        if notice.status == "failed" and notice.error is not None:
            raise error_from_body(notice.error.model_dump(mode="json", exclude_none=True))
        return IngestResult(
            id=notice.id,
            status=notice.status,
            reason=notice.reason,
            decisions=notice.decisions,
            raw_memory_ids=notice.rawMemoryIds or [],
            model=notice.model,
        )

    # ------------------------------------------------------------------ lifecycle (compactor)

    async def end_session(self, session_id: str) -> None:
        """Ends a session: the compactor compacts its memories (durable once this returns)."""
        message = _check(models.SessionEndMessage, {"sessionId": session_id, "endedAt": _now()})
        await self._publish(subject_of("sessionEnd", self.tenant), message)

    async def compact(
        self,
        *,
        session_id: str | None = None,
        sweeps: Sequence[str] | None = None,
        dry_run: bool | None = None,
        timeout: float | None = None,
    ) -> models.CompactReply:
        """Compacts a session and/or runs sweeps now; ``dry_run`` reports without changing."""
        body = _body(None, {"session_id": session_id, "sweeps": sweeps, "dry_run": dry_run})
        return await self._call(
            "compact", body, models.CompactReply, timeout or max(self._timeout, 60.0)
        )

    async def audit(
        self, audit: Input | None = None, *, timeout: float | None = None, **options: Any
    ) -> models.AuditReply:
        """Quality audit: counts, near duplicates, stale memories and recommendations."""
        return await self._call(
            "audit", _body(audit, options), models.AuditReply, timeout or max(self._timeout, 60.0)
        )

    # ------------------------------------------------------------------ outcomes and patterns

    async def record_outcome(self, outcome: Input | None = None, **fields: Any) -> uuid.UUID:
        """Records a task outcome durably; the pattern-extractor learns from it. ``id`` and
        ``occurredAt`` are filled in when absent; recording the same id again changes nothing."""
        body = _body(outcome, fields)
        body.setdefault("id", str(uuid7()))
        body.setdefault("occurredAt", _now())
        message = _check(models.OutcomeMessage, body)
        await self._publish(subject_of("outcome", self.tenant), message)
        return message.id

    async def patterns(self, request: Input | None = None, **options: Any) -> models.PatternsReply:
        """Ranked workflow patterns (and failure signatures) of a task type, best first."""
        return await self._call("patterns", _body(request, options), models.PatternsReply)

    async def best_workflow(
        self,
        task_type: str,
        *,
        objective: Literal["success_rate", "duration", "cost"] | None = None,
        min_support: int | None = None,
        min_success_rate: float | None = None,
        namespace: str | None = None,
        variant_kind: Literal["steps", "config"] = "steps",
    ) -> models.Patterns | None:
        """The best workflow (steps, or config with ``variant_kind='config'``) for an objective."""
        reply = await self.patterns(
            task_type=task_type,
            objective=objective,
            min_support=min_support,
            min_success_rate=min_success_rate,
            namespace=namespace,
            variant_kinds=[variant_kind],
            limit=1,
            include_failures=False,
        )
        return reply.patterns[0] if reply.patterns else None

    async def task_metrics(
        self, *, task_type: str | None = None, namespace: str | None = None
    ) -> models.MetricsReply:
        """Executions, successes, success rate, duration and cost per task type, and overall."""
        body = _body(None, {"task_type": task_type, "namespace": namespace})
        return await self._call("metrics", body, models.MetricsReply)

    async def failure_patterns(
        self, task_type: str | None = None, *, namespace: str | None = None, limit: int = 20
    ) -> builtins.list[models.Failures]:
        """Failed outcomes grouped by normalised error signature, most frequent first."""
        reply = await self.patterns(
            task_type=task_type, namespace=namespace, variant_kinds=["steps"], limit=limit
        )
        return reply.failures

    # ------------------------------------------------------------------ connection

    def watch(
        self,
        memory: Input | None = None,
        *,
        changes: Sequence[str] | None = None,
        start: Start = "now",
        timeout: float | None = None,
    ) -> ChangeStream:
        """The tenant's changes as they happen, or replayed from a time or sequence (decision
        008): ``async with memory.watch({"namespace": "oncall"}, start=since) as changes:``
        then ``async for change in changes``. ``memory`` filters the memories the events are
        about, ``changes`` the kinds of change (``created``, ``updated``, ``deleted``, ...)."""
        watch_filter: dict[str, Any] = {}
        if changes is not None:
            watch_filter["changes"] = list(changes)
        if memory is not None:
            watch_filter["memory"] = _body(memory, {})
        first = start_of(start)

        async def call(body: Mapping[str, Any]) -> models.WatchReply:
            return await self._call("watch", body, models.WatchReply, timeout)

        return ChangeStream(self._nc, self.tenant, call, watch_filter, first)

    async def close(self) -> None:
        """Closes the connection (when the client opened it), after pending publishes."""
        if self._notices is not None:
            await self._notices.unsubscribe()
            self._notices = None
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(MembusError("UNAVAILABLE", "client closed", retryable=True))
        self._waiting.clear()
        if self._owns_connection and not self._nc.is_closed:
            await self._nc.drain()

    async def _call(
        self,
        key: str,
        body: Mapping[str, Any],
        reply_model: type[Reply],
        timeout: float | None = None,
    ) -> Reply:
        """A request of this client's tenant: validated, sent as version 1, the reply validated
        (an ``{ error }`` reply raised as MembusError)."""
        request_model = getattr(models, f"{key[0].upper()}{key[1:]}Request")
        payload = _encode(_check(request_model, body))
        subject = subject_of(key, self.tenant)
        request = self._nc.request(subject, payload, timeout=timeout or self._timeout)
        try:
            reply = await self._denials.guard(subject, request)
        except MembusError:
            raise
        except Exception as error:  # noqa: BLE001 - every transport failure is a MembusError
            raise _transport_error(error, subject) from error
        return _decode_reply(reply, reply_model, subject)

    async def _publish(
        self, subject: str, message: BaseModel, headers: dict[str, str] | None = None
    ) -> None:
        """Publishes into JetStream (through the tenant's import) and returns once it is stored."""
        publish = self._js.publish(
            subject, _encode(message), timeout=self._timeout, headers=headers
        )
        try:
            await self._denials.guard(subject, publish)
        except MembusError:
            raise
        except Exception as error:  # noqa: BLE001
            raise _transport_error(error, subject) from error

    async def _listen(self) -> None:
        """Subscribes to this client's store notices once (concurrent stores share it)."""
        async with self._listening:
            if self._notices is None:
                self._notices = await self._nc.subscribe(
                    subject_of("notice", self.tenant, self._notice_token), cb=self._on_notice
                )

    async def _on_notice(self, message: Msg) -> None:
        try:
            notice = models.NoticeMessage.model_validate_json(message.data)
        except ValidationError:
            return
        future = self._waiting.get(notice.id)
        if future is not None and not future.done():
            future.set_result(notice)


async def _settle(
    memory_id: uuid.UUID, future: asyncio.Future[models.NoticeMessage], deadline: float
) -> StoreResult:
    """The store notice of one memory, by the deadline of its store_many."""
    try:
        notice = await asyncio.wait_for(
            future, max(0.0, deadline - asyncio.get_running_loop().time())
        )
    except TimeoutError:
        raise MembusError(
            "TIMEOUT",
            f"memory {memory_id} was not queryable in time",
            details={"id": str(memory_id)},
        ) from None
    if notice.status == "failed":
        body = notice.error.model_dump(mode="json", exclude_none=True) if notice.error else {}
        raise error_from_body({"code": "INTERNAL", "message": "store failed", **body})
    policy = notice.policy.model_dump(mode="json") if notice.policy else None
    return StoreResult(id=notice.id, status=notice.status, memory_id=notice.memoryId, policy=policy)


def _decode_reply(reply: Msg, model: type[Reply], subject: str) -> Reply:
    if len(reply.data) > MESSAGE_BYTES:
        raise MembusError("LIMIT_EXCEEDED", f"reply on {subject} is {len(reply.data)} bytes")
    try:
        value = json.loads(reply.data)
    except ValueError:
        raise MembusError("INTERNAL", f"unexpected reply on {subject}: not JSON") from None
    if isinstance(value, dict) and "error" in value and "v" not in value:
        try:
            raise error_from_body(models.ErrorBody.model_validate(value["error"]).model_dump())
        except ValidationError:
            raise MembusError("INTERNAL", f"unexpected error reply on {subject}") from None
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise MembusError("INTERNAL", f"unexpected reply on {subject}: {error}") from None


async def connect(
    servers: str | Sequence[str] = "nats://127.0.0.1:4222",
    *,
    tenant: str = DEFAULT_TENANT,
    creds_file: str | os.PathLike[str] | None = None,
    user: str | None = None,
    password: str | None = None,
    token: str | None = None,
    inbox_prefix: str | None = None,
    name: str = "membus-client",
    timeout: float = 5.0,
    connect_timeout: float = 5.0,
    connection: NatsConnection | None = None,
) -> MemoryClient:
    """Connects to membus as one tenant:
    ``async with await connect(servers, tenant="acme", creds_file=...) as memory``.

    ``creds_file`` is the tenant's agent credentials (``membus tenant add NAME``), or
    ``user``/``password`` on a stack with static tenancy; ``inbox_prefix`` as the TS client's
    ``inboxPrefix``. ``timeout`` bounds every request (seconds). A given ``connection`` is used
    as is and not closed by :meth:`MemoryClient.close`.
    """
    if not TENANT_PATTERN.match(tenant):
        raise MembusError(
            "INVALID_TENANT", f'invalid tenant "{tenant}": expected {TENANT_PATTERN.pattern}'
        )
    nc = connection
    denials = Denials()
    if nc is None:
        options: dict[str, Any] = {
            "servers": [servers] if isinstance(servers, str) else list(servers),
            "name": name,
            "connect_timeout": connect_timeout,
            "allow_reconnect": True,
            # The first connect fails fast (each server tried twice); once connected, the
            # client reconnects forever, as the TypeScript client.
            "max_reconnect_attempts": 1,
            "reconnect_time_wait": 0.25,
        }
        if creds_file is not None:
            options["user_credentials"] = os.fspath(creds_file)
        if user is not None:
            options["user"] = user
        if password is not None:
            options["password"] = password
        if token is not None:
            options["token"] = token
        if inbox_prefix is not None:
            options["inbox_prefix"] = inbox_prefix
        try:
            # Other failures reach the caller as MembusErrors of the call that hit them.
            nc = await nats.connect(**options, error_cb=denials.report)
        except Exception as error:  # noqa: BLE001
            raise _transport_error(error, "connect") from error
        nc.options["max_reconnect_attempts"] = -1
    return MemoryClient(
        nc, tenant=tenant, owns_connection=connection is None, timeout=timeout, denials=denials
    )
