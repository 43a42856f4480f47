"""Ingest through the Python client on the real stack (decision 010). `membus start` runs the
extractor without a chat model here (no EXTRACT_BASE_URL): every ingest is stored raw, one
episode per turn, and the caller that waits is told so."""

from __future__ import annotations

import membus


async def test_ingest_is_durable_at_once_and_stored_raw_without_a_model(
    acme: membus.MemoryClient,
) -> None:
    durable = await acme.ingest("The payments API depends on the orders queue", user_id="py-ingest")
    result = await acme.ingest(
        [
            {"id": "m1", "role": "user", "content": "We moved the web app to Netlify"},
            {"id": "m2", "role": "assistant", "content": "Noted"},
        ],
        user_id="py-ingest",
        session_id="py-ingest-1",
        wait="extracted",
    )
    stored = [await acme.get(memory_id) for memory_id in result.raw_memory_ids]
    assert (
        durable.status,
        result.status,
        result.reason,
        result.decisions,
        [
            (memory.text, memory.kind, memory.metadata.get("messageId"))
            for memory in stored
            if memory
        ],
    ) == (
        None,
        "raw",
        "disabled",
        [],
        [
            ("user: We moved the web app to Netlify", "episode", "m1"),
            ("assistant: Noted", "episode", "m2"),
        ],
    )
