"""Memories through the Python client on the real stack: store and query with read-your-writes,
filters, paging, update and history, delete, stats, errors and tenant isolation."""

from __future__ import annotations

import uuid

import pytest
from conftest import free_port

import membus

UNKNOWN_ID = "01935c3e-0000-7000-8000-000000000000"


async def test_store_then_query_finds_the_memory(acme: membus.MemoryClient) -> None:
    stored = await acme.store(
        {"text": "The payments API is deployed with Helm on EKS", "namespace": "py-roundtrip"},
        wait="queryable",
    )
    result = await acme.query(
        "how is the payments api deployed", filter={"namespace": "py-roundtrip"}
    )
    assert (stored.status, stored.memory_id, [hit.memory.id for hit in result.hits]) == (
        "stored",
        stored.id,
        [stored.id],
    )


async def test_store_takes_keyword_fields_and_ids_are_uuid7(acme: membus.MemoryClient) -> None:
    stored = await acme.store(
        text="Runbooks live in the ops wiki",
        namespace="py-keywords",
        user_id="carol",
        wait="queryable",
    )
    memory = await acme.get(stored.id)
    assert (stored.id.version, memory and (memory.userId, memory.scope)) == (7, ("carol", "user"))


async def test_filters_select_by_metadata_tree_category_and_scope(
    acme: membus.MemoryClient,
) -> None:
    stored = await acme.store_many(
        [
            {
                "namespace": "py-filters",
                "text": "Canary deploy of checkout to 5 percent succeeded",
                "metadata": {"service": "checkout", "percent": 5, "success": True},
                "categories": ["deploys"],
            },
            {
                "namespace": "py-filters",
                "text": "Canary deploy of checkout to 50 percent failed on latency",
                "metadata": {"service": "checkout", "percent": 50, "success": False},
                "categories": ["deploys", "failures"],
            },
            {
                "namespace": "py-filters",
                "userId": "dave",
                "text": "Dave wants canary deploys to stop at 25 percent",
                "kind": "preference",
            },
        ],
        wait="queryable",
    )
    small, failed, preference = (result.id for result in stored)
    tree = await acme.query(
        "canary deploy of checkout",
        filter={
            "namespace": "py-filters",
            "metadata": {
                "and": [
                    {"field": "service", "op": "eq", "value": "checkout"},
                    {
                        "or": [
                            {"field": "percent", "op": "lt", "value": 10},
                            {"not": {"field": "success", "op": "eq", "value": True}},
                        ]
                    },
                ]
            },
        },
    )
    category = await acme.query(
        "canary deploy", filter={"namespace": "py-filters", "categories": {"all": ["failures"]}}
    )
    user = await acme.query("canary deploys", filter={"userId": "dave", "kinds": ["preference"]})
    assert (
        sorted(str(hit.memory.id) for hit in tree.hits),
        [hit.memory.id for hit in category.hits],
        [(hit.memory.id, hit.memory.scope) for hit in user.hits],
    ) == (sorted([str(small), str(failed)]), [failed], [(preference, "user")])


async def test_query_modes_top_k_and_min_score(acme: membus.MemoryClient) -> None:
    await acme.store_many(
        [
            {"namespace": "py-modes", "text": f"Kafka consumer lag alert number {n}"}
            for n in range(4)
        ],
        wait="queryable",
    )
    keyword = await acme.query(
        "kafka consumer lag", filter={"namespace": "py-modes"}, mode="keyword", top_k=2
    )
    hybrid = await acme.query(
        "kafka consumer lag",
        filter={"namespace": "py-modes"},
        mode="hybrid",
        weights={"relevance": 1, "recency": 0, "importance": 0},
    )
    # A floor between the lowest and the highest score keeps exactly the hits at or above it.
    scores = [hit.score for hit in hybrid.hits]
    floor = (max(scores) + min(scores)) / 2
    above = await acme.query(
        "kafka consumer lag",
        filter={"namespace": "py-modes"},
        mode="hybrid",
        weights={"relevance": 1, "recency": 0, "importance": 0},
        min_score=floor,
    )
    kept = [score for score in scores if score >= floor]
    assert (keyword.mode, len(keyword.hits), hybrid.mode, len(hybrid.hits)) == (
        "keyword",
        2,
        "hybrid",
        4,
    )
    assert 0 < len(kept) < len(scores)
    assert [hit.score for hit in above.hits] == kept


async def test_list_pages_newest_first_each_once(acme: membus.MemoryClient) -> None:
    stored = []
    for turn in range(7):
        stored.append(
            await acme.store(
                {
                    "sessionId": "py-session-pages",
                    "kind": "episode",
                    "text": f"Conversation turn {turn}: user asked about pod restarts",
                    "createdAt": f"2026-11-01T12:0{turn}:00.000Z",
                },
                wait="queryable",
            )
        )
    session = {"sessionId": "py-session-pages"}
    paged: list[uuid.UUID] = []
    cursor = None
    while True:
        page = await acme.list(filter=session, limit=3, cursor=cursor)
        paged.extend(memory.id for memory in page.memories)
        cursor = page.next_cursor
        if cursor is None:
            break
    iterated = [memory.id async for memory in acme.list_all(session, page_size=2)]
    newest_first = [result.id for result in reversed(stored)]
    assert (paged, iterated) == (newest_first, newest_first)


async def test_update_re_embeds_and_history_keeps_the_previous_text(
    acme: membus.MemoryClient,
) -> None:
    stored = await acme.store(
        {"text": "The billing API runs on ECS", "namespace": "py-update"}, wait="queryable"
    )
    updated = await acme.update(stored.id, text="The billing API moved to Kubernetes on EKS")
    changed = await acme.update(stored.id, {"metadata": {"owner": "platform"}}, importance=0.9)
    result = await acme.query("kubernetes eks cluster", filter={"namespace": "py-update"}, top_k=1)
    history = await acme.history(stored.id)
    assert (
        updated.text,
        (changed.metadata, changed.importance),
        [hit.memory.id for hit in result.hits],
        [(entry.event, entry.previousText) for entry in history],
    ) == (
        "The billing API moved to Kubernetes on EKS",
        ({"owner": "platform"}, 0.9),
        [stored.id],
        [("ADD", None), ("UPDATE", "The billing API runs on ECS"), ("UPDATE", None)],
    )


async def test_get_many_lists_the_missing_ids(acme: membus.MemoryClient) -> None:
    stored = await acme.store({"text": "Staging runs in eu-west-1"}, wait="queryable")
    result = await acme.get_many([stored.id, UNKNOWN_ID])
    assert ([memory.id for memory in result.memories], result.missing) == (
        [stored.id],
        [uuid.UUID(UNKNOWN_ID)],
    )


async def test_delete_by_id_and_by_filter(acme: membus.MemoryClient) -> None:
    one, *session = await acme.store_many(
        [
            {"text": "Temporary note: rotate the staging keys"},
            {"sessionId": "py-session-delete", "text": "User wants a summary of yesterday"},
            {"sessionId": "py-session-delete", "text": "User asked for the error budget"},
        ],
        wait="queryable",
    )
    deleted = await acme.delete(one.id)
    again = await acme.delete([one.id])
    by_session = await acme.delete_where({"sessionId": "py-session-delete"})
    left = await acme.list(filter={"sessionId": "py-session-delete"})
    assert (
        deleted,
        again,
        sorted(map(str, by_session)),
        left.memories,
        await acme.get(one.id),
    ) == (
        [one.id],
        [],
        sorted(str(result.id) for result in session),
        [],
        None,
    )


async def test_stats_count_by_kind_category_and_namespace(acme: membus.MemoryClient) -> None:
    await acme.store_many(
        [
            {
                "text": "Incident: DNS outage in eu-west-1",
                "kind": "episode",
                "categories": ["incidents"],
                "namespace": "py-stats",
            },
            {
                "text": "Incident: expired TLS certificate on the API",
                "kind": "episode",
                "categories": ["incidents"],
                "namespace": "py-stats",
            },
            {
                "text": "The payments service depends on Postgres and Redis",
                "kind": "fact",
                "categories": ["dependencies"],
                "namespace": "py-stats",
            },
        ],
        wait="queryable",
    )
    stats = await acme.stats({"namespace": "py-stats"})
    assert (stats.total, stats.byKind, stats.byCategory, stats.byNamespace) == (
        3,
        {"episode": 2, "fact": 1},
        {"incidents": 2, "dependencies": 1},
        {"py-stats": 3},
    )


async def test_a_body_off_the_contract_is_invalid_message_before_it_is_sent(
    acme: membus.MemoryClient,
) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await acme.store({"text": "x", "kind": "rumour"})
    assert (caught.value.code, caught.value.retryable, caught.value.category) == (
        "INVALID_MESSAGE",
        False,
        "user",
    )


async def test_the_service_answers_an_empty_delete_filter_with_invalid_message(
    acme: membus.MemoryClient,
) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await acme.delete_where({})
    assert caught.value.code == "INVALID_MESSAGE"


async def test_an_oversize_text_is_limit_exceeded(acme: membus.MemoryClient) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await acme.store({"text": "x" * 40_000})
    assert caught.value.code == "LIMIT_EXCEEDED"


async def test_an_update_of_an_unknown_id_is_not_found(acme: membus.MemoryClient) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await acme.update(UNKNOWN_ID, importance=1)
    assert (caught.value.code, caught.value.retryable) == ("NOT_FOUND", False)


async def test_a_store_with_a_wrong_vector_dimension_fails_the_waiting_client(
    acme: membus.MemoryClient,
) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await acme.store({"text": "wrong dimension", "vector": [0.1, 0.2, 0.3]}, wait="queryable")
    assert caught.value.code == "DIMENSION_MISMATCH"


async def test_an_invalid_tenant_is_refused_before_connecting(stack) -> None:
    with pytest.raises(membus.MembusError) as caught:
        await membus.connect(stack.url, tenant="a.>")
    assert caught.value.code == "INVALID_TENANT"


async def test_tenant_b_sees_none_of_tenant_a_memories(
    acme: membus.MemoryClient, globex: membus.MemoryClient
) -> None:
    stored = await acme.store(
        {
            "text": "Acme's private deploy key rotation happens on Fridays",
            "namespace": "py-private",
        },
        wait="queryable",
    )
    seen_by_acme = await acme.query("deploy key rotation", filter={"namespace": "py-private"})
    # Unfiltered: whatever globex has of its own, nothing of acme's.
    hits = await globex.query("acme private deploy key rotation fridays", top_k=200)
    got = await globex.get(stored.id)
    listed = await globex.list(filter={"namespace": "py-private"})
    stats = await globex.stats({"namespace": "py-private"})
    assert (
        [hit.memory.id for hit in seen_by_acme.hits],
        [hit for hit in hits.hits if hit.memory.id == stored.id or hit.memory.tenant != "globex"],
        got,
        listed.memories,
        stats.total,
    ) == ([stored.id], [], None, [], 0)


async def test_no_server_is_unavailable_and_retryable() -> None:
    with pytest.raises(membus.MembusError) as caught:
        await membus.connect(f"nats://127.0.0.1:{free_port()}", tenant="acme", connect_timeout=1)
    assert (caught.value.code, caught.value.retryable) == ("UNAVAILABLE", True)


async def test_connects_with_an_inbox_prefix(stack) -> None:
    async with await membus.connect(
        stack.url, tenant="acme", creds_file=stack.creds("acme"), inbox_prefix="_INBOX.acme"
    ) as client:
        stats = await client.stats({"namespace": "py-never-used"})
    assert stats.total == 0


async def test_tenant_b_credentials_cannot_reach_tenant_a_subjects(stack) -> None:
    async with await membus.connect(
        stack.url, tenant="acme", creds_file=stack.creds("globex"), timeout=10
    ) as impostor:
        codes = []
        for attempt in (impostor.query("deploy key rotation"), impostor.store({"text": "x"})):
            try:
                await attempt
                codes.append("answered")
            except membus.MembusError as error:
                codes.append(error.code)
    assert codes == ["INVALID_TENANT", "INVALID_TENANT"]


async def test_store_many_refuses_more_than_a_batch_and_one_id_twice(
    acme: membus.MemoryClient,
) -> None:
    codes = []
    same = str(membus.uuid7())
    for batch in (
        [{"text": f"note {n}"} for n in range(501)],
        [{"id": same, "text": "first"}, {"id": same, "text": "second"}],
    ):
        with pytest.raises(membus.MembusError) as caught:
            await acme.store_many(batch, wait="queryable")
        codes.append(caught.value.code)
    assert (codes, await acme.get(same)) == (["LIMIT_EXCEEDED", "INVALID_MESSAGE"], None)
