"""One real membus stack for the whole session: `membus start` (nats-server in JWT tenancy and
the four services), a second tenant added with `membus tenant add`, stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import membus

REPO = Path(__file__).resolve().parents[3]
CLI = ["node", str(REPO / "packages" / "cli" / "bin" / "membus.mjs")]
READY_LINE = "membus is running"
# What the environment may carry that would point the stack elsewhere (another NATS, MongoDB
# of the TypeScript suite, a paid embedding provider): the stack here is local and offline.
FOREIGN_ENV = (
    "NATS_",
    "MEMBUS_",
    "MONGODB_",
    "OPENAI_",
    "EMBEDDING_",
    "QDRANT_",
    "METRICS_",
    "GATEWAY_",
    "EXTRACT_",
)
# Metrics ports from --metrics-port-base: the four services, the HTTP gateway, the extractor,
# the webhooks.
METRICS_PORTS = 7


@dataclass(frozen=True)
class Stack:
    url: str
    data_dir: Path

    def creds(self, tenant: str) -> Path:
        return self.data_dir / "tenancy" / "creds" / "tenants" / f"{tenant}.creds"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_run(count: int) -> int:
    """The first of ``count`` consecutive free ports (the services' metrics ports)."""
    for _ in range(50):
        base = free_port()
        if base + count < 65_535 and all(_free(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _environment() -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_ENV)
    }
    # The stack embeds with the fast hashing provider, as every test stack does, not the ONNX
    # model `membus start` uses by default (a download and about 10x slower ingest).
    environment["EMBEDDING_OFFLINE_PROVIDER"] = "local"
    return environment


def _run_cli(*args: str) -> None:
    done = subprocess.run(
        [*CLI, *args], cwd=REPO, env=_environment(), capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"membus {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM to the stack's process group (the CLI drains the services and nats-server),
    then SIGKILL for whatever is left: nothing outlives the session."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(process.pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("membus-data")
    nats_port = free_port()
    flags = [
        "--data-dir",
        str(data_dir),
        "--nats-port",
        str(nats_port),
    ]
    process = subprocess.Popen(
        [
            *CLI,
            "start",
            *flags,
            "--tenant",
            "acme",
            "--metrics-port-base",
            str(free_port_run(METRICS_PORTS)),
            "--gateway-port",
            str(free_port()),
        ],
        cwd=REPO,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if READY_LINE in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        # Deadline polling on the ready line (or the CLI's exit), never a fixed sleep.
        deadline = time.monotonic() + 120
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("membus start did not come up:\n" + "".join(lines[-40:]))
        _run_cli("tenant", "add", "globex", *flags)
        yield Stack(url=f"nats://127.0.0.1:{nats_port}", data_dir=data_dir)
    finally:
        _stop(process)


async def _tenant_client(stack: Stack, tenant: str) -> AsyncIterator[membus.MemoryClient]:
    async with await membus.connect(
        stack.url, tenant=tenant, creds_file=stack.creds(tenant)
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def acme(stack: Stack) -> AsyncIterator[membus.MemoryClient]:
    """The agent of tenant acme (the tenant `membus start` made)."""
    async for client in _tenant_client(stack, "acme"):
        yield client


@pytest.fixture(scope="session")
async def globex(stack: Stack) -> AsyncIterator[membus.MemoryClient]:
    """The agent of tenant globex (added with `membus tenant add` while the stack runs)."""
    async for client in _tenant_client(stack, "globex"):
        yield client
