"""Deadline polling for what the services do in the background (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(
    check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 30.0
) -> T:
    """The first truthy value ``check`` returns, polled until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
