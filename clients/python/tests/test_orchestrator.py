"""USE-CASES §2, the orchestrator's sessions, in Python on the real stack: every execution is
stored with its session; a dry-run compaction reports without changing anything; ending the
session compacts it into one summary that a query finds."""

from __future__ import annotations

from waiting import wait_for

import membus

TASK_TYPES = ["code_generation", "testing", "deployment", "debugging"]
TOOLS = ["linter", "pytest", "docker", "kubectl"]


def executions(session_id: str, count: int) -> list[dict]:
    return [
        {
            "sessionId": session_id,
            "agentId": "orchestrator",
            "namespace": "py-orchestrator",
            "kind": "outcome",
            "text": f"Step {index + 1}: ran the {TASK_TYPES[index % 4]} workflow using "
            f"{TOOLS[index % 4]}. The run {'failed' if index % 5 == 4 else 'succeeded'} after "
            f"{10 + index} seconds. Keep {TOOLS[index % 4]} in the plan.",
            "metadata": {"taskType": TASK_TYPES[index % 4], "success": index % 5 != 4},
        }
        for index in range(count)
    ]


async def test_a_dry_run_reports_the_session_without_changing_it(
    acme: membus.MemoryClient,
) -> None:
    await acme.store_many(executions("py-orchestrate-dry", 6), wait="queryable")
    reply = await acme.compact(session_id="py-orchestrate-dry", dry_run=True)
    left = [memory async for memory in acme.list_all({"sessionId": "py-orchestrate-dry"})]
    report = reply.session
    assert (report and (report.memoriesIn, report.dryRun), len(left)) == ((6, True), 6)


async def test_an_ended_session_becomes_one_summary_that_a_query_finds(
    acme: membus.MemoryClient,
) -> None:
    session = {"sessionId": "py-orchestrate-end"}
    await acme.store_many(executions("py-orchestrate-end", 12), wait="queryable")
    await acme.end_session("py-orchestrate-end")

    async def summary() -> membus.MemoryRecord | None:
        records = [memory async for memory in acme.list_all(session)]
        done = len(records) == 1 and records[0].kind == "summary"
        return records[0] if done else None

    record = await wait_for(summary, what="the session to become one summary")
    found = await acme.query(
        record.text[:200], filter={"namespace": "py-orchestrator", "kinds": ["summary"]}, top_k=1
    )
    assert [hit.memory.id for hit in found.hits] == [record.id]
