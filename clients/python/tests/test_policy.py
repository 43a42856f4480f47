"""The ingest policy from Python (decision 009): put, get and history of versions; a store the
policy drops resolves as ``dropped`` with the rule and reason; a stale put is CONFLICT."""

from __future__ import annotations

import pytest

import membus

NAMESPACE = "py-policy"

POLICY = {
    "v": 1,
    "rules": [
        {
            "name": "greeting",
            "match": {
                "namespaces": [NAMESPACE],
                "text": [{"regex": "^(hi|hello|hey)\\b", "ignoreCase": True}],
            },
            "action": {"type": "drop", "reason": "greeting"},
        },
        {
            "name": "incident",
            "match": {"namespaces": [NAMESPACE], "text": [{"contains": "outage"}]},
            "action": {"type": "annotate", "categories": ["incidents"]},
        },
    ],
    "expiry": [{"category": "incidents", "ttlSeconds": 90 * 86_400}],
}


async def test_a_policy_drops_labels_and_keeps_its_versions(globex: membus.MemoryClient) -> None:
    current = (await globex.policy()).version
    put = await globex.put_policy(POLICY, expected_version=current)
    assert put.version == current + 1

    dropped = await globex.store(text="Hello there", namespace=NAMESPACE, wait="queryable")
    assert (dropped.status, dropped.policy) == (
        "dropped",
        {"version": put.version, "rule": "greeting", "reason": "greeting"},
    )
    kept = await globex.store(
        text="Checkout outage at 14:02", namespace=NAMESPACE, wait="queryable"
    )
    memory = await globex.get(kept.id)
    assert kept.status == "stored"
    assert memory is not None and memory.categories == ["incidents"]
    assert memory.expiresAt is not None

    history = await globex.policy_history()
    assert [entry.ruleNames for entry in history.versions][0] == ["greeting", "incident"]

    with pytest.raises(membus.MembusError) as raised:
        await globex.put_policy(POLICY, expected_version=current)
    assert raised.value.code == "CONFLICT"
