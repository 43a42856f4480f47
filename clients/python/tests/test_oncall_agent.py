"""USE-CASES §3, the on-call agent, in Python on the real stack: a daemon stores incident
investigations and searches similar past incidents before a new one; API sessions keep their
conversation turns for 7 days and read the daemon's learnings; expiry by kind; quality audits;
recalled memories as prompt context; a session listed and deleted; 20 concurrent stores."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

import membus

DAY = 86_400
NAMESPACE = "py-oncall"
SESSION = "py-api-session-7"


def incident(service: str, severity: str, root_cause: str, resolution: str, text: str) -> dict:
    """An investigation as the daemon stores it: kept 90 days."""
    return {
        "namespace": NAMESPACE,
        "kind": "episode",
        "text": text,
        "categories": ["incidents"],
        "ttlSeconds": 90 * DAY,
        "metadata": {
            "source": "daemon",
            "service": service,
            "severity": severity,
            "rootCause": root_cause,
            "resolution": resolution,
        },
    }


@pytest.fixture(scope="module")
async def daemon(acme: membus.MemoryClient) -> dict[str, membus.StoreResult]:
    """The daemon's memory: two incidents, a temporary blip and permanent knowledge."""
    stored = await acme.store_many(
        [
            incident(
                "checkout",
                "sev2",
                "payment provider timeouts tripped a too strict liveness probe",
                "raised the liveness timeout to 10 s",
                "Checkout pods restarted in a loop: the payment provider timed out and the "
                "liveness probe was too strict",
            ),
            incident(
                "billing",
                "sev1",
                "Postgres connection pool exhausted during the Friday peak",
                "pool size 20 -> 60, PgBouncer in transaction mode",
                "Billing API returned 500s: Postgres connection pool exhausted at the Friday peak",
            ),
            {
                "namespace": NAMESPACE,
                "kind": "episode",
                "text": "Temporary blip: checkout latency spike at 14:02, recovered by itself",
                "categories": ["troubleshooting"],
                "ttlSeconds": 7 * DAY,
                "metadata": {"source": "daemon", "service": "checkout"},
            },
            {
                "namespace": NAMESPACE,
                "kind": "fact",
                "text": "The checkout service depends on payments, inventory and Redis",
                "categories": ["aws_resources"],
                "metadata": {"source": "daemon", "service": "checkout"},
            },
        ],
        wait="queryable",
    )
    return dict(zip(["checkout", "billing", "blip", "dependencies"], stored, strict=True))


async def test_finds_the_similar_past_incident_before_a_new_one(
    acme: membus.MemoryClient, daemon: dict[str, membus.StoreResult]
) -> None:
    result = await acme.query(
        "checkout pods crashlooping, payment provider slow",
        filter={
            "namespace": NAMESPACE,
            "categories": {"any": ["incidents"]},
            "metadata": {"field": "source", "op": "eq", "value": "daemon"},
        },
        top_k=1,
    )
    [hit] = result.hits
    assert (hit.memory.id, hit.memory.metadata["resolution"]) == (
        daemon["checkout"].id,
        "raised the liveness timeout to 10 s",
    )


async def test_an_api_session_reads_its_turns_and_the_daemon_learnings(
    acme: membus.MemoryClient, daemon: dict[str, membus.StoreResult]
) -> None:
    turns = await acme.store_many(
        [
            {
                "sessionId": SESSION,
                "namespace": NAMESPACE,
                "kind": "episode",
                "ttlSeconds": 7 * DAY,
                "text": "User asked why checkout pods keep restarting",
            },
            {
                "sessionId": "py-api-session-8",
                "namespace": NAMESPACE,
                "kind": "episode",
                "text": "Another session asked why checkout pods keep restarting",
            },
        ],
        wait="queryable",
    )
    result = await acme.query(
        "why do checkout pods restart",
        filter={
            "namespace": NAMESPACE,
            "anyOf": [{"scope": "session", "sessionId": SESSION}, {"scope": "app"}],
        },
        top_k=20,
    )
    seen = {hit.memory.id: hit.memory.scope for hit in result.hits}
    assert (
        seen.get(turns[0].id),
        seen.get(daemon["checkout"].id),
        turns[1].id in seen,
    ) == ("session", "app", False)


async def test_expiry_by_kind_incidents_90_days_blips_7_permanent_never(
    acme: membus.MemoryClient, daemon: dict[str, membus.StoreResult]
) -> None:
    now = datetime.now(UTC)
    records = (await acme.get_many([result.id for result in daemon.values()])).memories
    days = {
        record.id: None
        if record.expiresAt is None
        else round((record.expiresAt - now) / timedelta(days=1))
        for record in records
    }
    assert [days[daemon[name].id] for name in ("checkout", "billing", "blip", "dependencies")] == [
        90,
        90,
        7,
        None,
    ]


async def test_a_recurring_incident_is_one_memory_with_an_occurrence_count(
    acme: membus.MemoryClient,
) -> None:
    text = "Nightly backup job on db-02 failed: disk full on /var/backups"
    first = await acme.store({"namespace": NAMESPACE, "text": text}, wait="queryable")
    second = await acme.store({"namespace": NAMESPACE, "text": text}, wait="queryable")
    memory = await acme.get(first.id)
    assert (second.status, second.memory_id, memory and memory.occurrences) == (
        "duplicate",
        first.id,
        2,
    )


async def test_the_quality_audit_reports_near_duplicates_and_stale_memories(
    acme: membus.MemoryClient,
) -> None:
    first, second, old = await acme.store_many(
        [
            {
                "namespace": "py-oncall-audit",
                "text": "The payments service depends on the ledger "
                "database and the fraud scoring API",
            },
            {
                "namespace": "py-oncall-audit",
                "text": "The payments service depends on the ledger "
                "database and also the fraud scoring API",
                "metadata": {"source": "daemon"},
            },
            {
                "namespace": "py-oncall-audit",
                "text": "Legacy cron host cron-01 was decommissioned",
                "createdAt": (datetime.now(UTC) - timedelta(days=120)).isoformat(),
            },
        ],
        wait="queryable",
    )
    audit = await acme.audit(namespace="py-oncall-audit", stale_days=90)
    assert (
        [sorted(map(str, pair.ids)) for pair in audit.duplicates],
        [entry.id for entry in audit.stale],
        audit.total,
    ) == ([sorted([str(first.memory_id), str(second.memory_id)])], [old.id], 3)


async def test_recalled_memories_become_prompt_context_within_a_budget(
    acme: membus.MemoryClient, daemon: dict[str, membus.StoreResult]
) -> None:
    result = await acme.query(
        "checkout incident", filter={"namespace": NAMESPACE, "categories": {"any": ["incidents"]}}
    )
    wide = membus.format_context(result.hits, metadata_keys=["service", "severity"])
    narrow = membus.format_context(result.hits, max_chars=150)
    assert (
        wide.included,
        wide.text.splitlines()[0],
        all(line.startswith("- [relevance ") for line in wide.text.splitlines()[1:]),
        'service="checkout"' in wide.text,
        (narrow.included + narrow.omitted, narrow.omitted > 0, len(narrow.text) <= 150),
    ) == (2, "Relevant memories:", True, True, (2, True, True))


async def test_lists_a_session_then_deletes_it_with_all_its_memories(
    acme: membus.MemoryClient,
) -> None:
    session = {"sessionId": "py-api-session-9"}
    stored = await acme.store_many(
        [
            {**session, "text": "User wants a summary of yesterday's incidents"},
            {**session, "text": "User asked for the payments error budget"},
        ],
        wait="queryable",
    )
    listed = [memory.id async for memory in acme.list_all(session)]
    deleted = await acme.delete_where(session)
    left = await acme.list(filter=session)
    assert (sorted(map(str, listed)), sorted(map(str, deleted)), left.memories) == (
        sorted(str(result.id) for result in stored),
        sorted(str(result.id) for result in stored),
        [],
    )


async def test_twenty_concurrent_stores_and_a_search_within_500_ms(
    acme: membus.MemoryClient,
) -> None:
    results = await asyncio.gather(
        *(
            acme.store(
                {
                    "namespace": "py-oncall-load",
                    "text": f"Pod oom-killed in namespace payments-{n}",
                },
                wait="queryable",
            )
            for n in range(20)
        )
    )
    started = time.perf_counter()
    found = await acme.query("pod oom killed in payments", filter={"namespace": "py-oncall-load"})
    elapsed = time.perf_counter() - started
    assert (len({result.id for result in results}), len(found.hits), elapsed < 0.5) == (
        20,
        10,
        True,
    )
