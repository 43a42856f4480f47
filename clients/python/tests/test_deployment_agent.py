"""USE-CASES §1, the deployment agent, in Python on the real stack: before deploying it recalls
the user's preferences, the successful deployments of the same platform and environment and the
failures to avoid; after deploying it records the outcome, and learns the best workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from waiting import wait_for

import membus

NAMESPACE = "py-deployment"
GITHUB_TOKEN = "ghp_Zx8Lq2Vb7Nw4Tr1Ys6Ku3Jm9Pd5Hc0Ge2Fa7"
FULL_VERCEL = ["Install dependencies", "Build", "Deploy to Vercel", "Verify URL"]
SHORT_VERCEL = ["Build", "Deploy to Vercel"]
FULL_NETLIFY = ["Install dependencies", "Build", "Deploy to Netlify"]
VERCEL = {"platform": "vercel", "environment": "production", "framework": "nextjs"}
NETLIFY = {"platform": "netlify", "environment": "staging", "framework": "astro"}
# What the agent asks before it deploys to Vercel production.
BEFORE_VERCEL = "vercel production deploy"


async def recall(
    acme: membus.MemoryClient, text: str, *, top_k: int | None = None, **filter: Any
) -> list[membus.models.QueryHit]:
    """What the deployment agent recalls for ``text``: its namespace's memories, ``filter``ed."""
    result = await acme.query(text, filter={"namespace": NAMESPACE, **filter}, top_k=top_k)
    return result.hits


@pytest.fixture(scope="module")
async def deployments(acme: membus.MemoryClient) -> dict[str, membus.StoreResult]:
    """What the team's deployment agents remembered: preferences, outcomes, an incident."""
    stored = await acme.store_many(
        [
            {
                "userId": "alice",
                "namespace": NAMESPACE,
                "kind": "preference",
                "text": "Alice prefers Vercel for production deploys, with npm ci and Node 20",
                "categories": ["preferences"],
            },
            {
                "userId": "bob",
                "namespace": NAMESPACE,
                "kind": "preference",
                "text": "Bob prefers Netlify for production deploys and pnpm",
                "categories": ["preferences"],
            },
            {
                "namespace": NAMESPACE,
                "kind": "outcome",
                "text": "Deployed test-app to Vercel production at https://test-app.vercel.app "
                f"in 45.3 s, 5 steps (auth with {GITHUB_TOKEN})",
                "metadata": {
                    "platform": "vercel",
                    "environment": "production",
                    "success": True,
                    "durationSeconds": 45.3,
                    "steps": 5,
                    "url": "https://test-app.vercel.app",
                    "user": "alice",
                },
                "categories": ["deployments"],
            },
            {
                "namespace": NAMESPACE,
                "kind": "outcome",
                "text": "Vercel production deploy of test-app failed: "
                "Build failed: Missing dependency 'react-dom'",
                "metadata": {
                    "platform": "vercel",
                    "environment": "production",
                    "success": False,
                    "error": "Build failed: Missing dependency 'react-dom'",
                    "user": "alice",
                },
                "categories": ["deployments", "failures"],
            },
            {
                "namespace": NAMESPACE,
                "kind": "outcome",
                "text": "Deployed docs-site to Netlify staging in 20.1 s, 3 steps",
                "metadata": {
                    "platform": "netlify",
                    "environment": "staging",
                    "success": True,
                    "durationSeconds": 20.1,
                },
                "categories": ["deployments"],
            },
        ],
        wait="queryable",
    )
    return dict(zip(["alice", "bob", "success", "failure", "netlify"], stored, strict=True))


async def test_recalls_the_successful_vercel_production_deploy(
    acme: membus.MemoryClient, deployments: dict[str, membus.StoreResult]
) -> None:
    hits = await recall(
        acme,
        BEFORE_VERCEL,
        kinds=["outcome"],
        metadata={
            "and": [
                {"field": "platform", "op": "eq", "value": "vercel"},
                {"field": "success", "op": "eq", "value": True},
            ]
        },
    )
    assert [
        (hit.memory.id, hit.memory.metadata["url"], hit.memory.metadata["durationSeconds"])
        for hit in hits
    ] == [(deployments["success"].id, "https://test-app.vercel.app", 45.3)]


async def test_recalls_the_failure_to_avoid_with_its_error(
    acme: membus.MemoryClient, deployments: dict[str, membus.StoreResult]
) -> None:
    hits = await recall(
        acme, BEFORE_VERCEL, metadata={"field": "success", "op": "eq", "value": False}
    )
    assert [(hit.memory.id, hit.memory.metadata["error"]) for hit in hits] == [
        (deployments["failure"].id, "Build failed: Missing dependency 'react-dom'")
    ]


async def test_ranks_both_vercel_outcomes_above_netlify(
    acme: membus.MemoryClient, deployments: dict[str, membus.StoreResult]
) -> None:
    hits = await recall(acme, BEFORE_VERCEL, top_k=3, kinds=["outcome"])
    assert {hit.memory.id for hit in hits[:2]} == {
        deployments["success"].id,
        deployments["failure"].id,
    }


async def test_returns_only_the_users_own_preferences(
    acme: membus.MemoryClient, deployments: dict[str, membus.StoreResult]
) -> None:
    hits = await recall(
        acme, "where should production deploys go", userId="alice", kinds=["preference"]
    )
    assert [(hit.memory.id, hit.memory.scope) for hit in hits] == [
        (deployments["alice"].id, "user")
    ]


async def test_never_stores_the_github_token(
    acme: membus.MemoryClient, deployments: dict[str, membus.StoreResult]
) -> None:
    memory = await acme.get(deployments["success"].id)
    assert memory is not None
    assert (GITHUB_TOKEN in memory.text, "[REDACTED" in memory.text) == (False, True)


async def test_learns_the_best_workflow_and_the_failure_to_avoid_from_outcomes(
    acme: membus.MemoryClient,
) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    outcomes = [
        *(
            {
                "success": True,
                "durationMs": ms,
                "cost": 0.02,
                "steps": FULL_VERCEL,
                "config": VERCEL,
                "metadata": {"url": "https://test-app.vercel.app"},
            }
            for ms in (45_300, 47_000, 44_000, 50_000)
        ),
        {
            "success": False,
            "durationMs": 12_000,
            "cost": 0.01,
            "steps": SHORT_VERCEL,
            "config": VERCEL,
            "error": "Build failed: Missing dependency 'react-dom' in "
            "/home/runner/work/app-1234/package.json (build 8812)",
        },
        {
            "success": False,
            "durationMs": 15_000,
            "cost": 0.01,
            "steps": SHORT_VERCEL,
            "config": VERCEL,
            "error": "Build failed: Missing dependency 'react-dom' in /tmp/ci/77/package.json "
            "(build 17)",
        },
        *(
            {
                "success": True,
                "durationMs": ms,
                "cost": 0.03,
                "steps": FULL_NETLIFY,
                "config": NETLIFY,
            }
            for ms in (20_100, 22_000, 21_000)
        ),
    ]
    for minute, outcome in enumerate(outcomes):
        await acme.record_outcome(
            outcome,
            task_type="deployment",
            namespace=NAMESPACE,
            agent_id="deploy-agent",
            user_id="alice",
            occurred_at=(start + timedelta(minutes=minute)).isoformat(),
        )

    async def counted() -> membus.models.MetricsReply | None:
        metrics = await acme.task_metrics(task_type="deployment", namespace=NAMESPACE)
        done = metrics.taskTypes and metrics.taskTypes[0].allTime.executions == len(outcomes)
        return metrics if done else None

    metrics = await wait_for(counted, what="every outcome counted")
    by_success = await acme.best_workflow(
        "deployment", objective="success_rate", min_support=3, namespace=NAMESPACE
    )
    by_duration = await acme.best_workflow(
        "deployment", objective="duration", min_support=3, namespace=NAMESPACE
    )
    config = await acme.best_workflow(
        "deployment", variant_kind="config", objective="cost", min_support=3, namespace=NAMESPACE
    )
    [failure, *_] = await acme.failure_patterns("deployment", namespace=NAMESPACE)
    all_time = metrics.taskTypes[0].allTime
    assert (
        by_success and by_success.signature,
        by_duration and by_duration.signature,
        config and config.signature,
        (failure.signature, failure.count),
        failure.avoidedBy and failure.avoidedBy.signature,
        (all_time.executions, all_time.successes, all_time.failures),
    ) == (
        "install dependencies → build → deploy to vercel → verify url",
        "install dependencies → build → deploy to netlify",
        "environment=production, framework=nextjs, platform=vercel",
        ("build failed: missing dependency <value> in <path> (build <n>)", 2),
        "install dependencies → build → deploy to vercel → verify url",
        (9, 7, 2),
    )
