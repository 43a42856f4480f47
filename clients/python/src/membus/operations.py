"""The operations table of the contract (schema/operations.json): subjects by operation."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

from .errors import MembusError

# packages/contracts/src/subjects.ts
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
NOTICE_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_TENANT = "default"
# packages/contracts/src/limits.ts
BATCH_SIZE = 500
MESSAGE_BYTES = 256 * 1024
# The header naming the store notice's token (`Headers.notify`).
NOTIFY_HEADER = "membus-notify"


@cache
def operations() -> dict[str, Any]:
    """Every operation by key (``query``, ``store``, ...): name, kind, pattern, schemas."""
    return json.loads(files("membus").joinpath("schema/operations.json").read_text("utf-8"))


def subject_of(key: str, tenant: str, token: str | None = None) -> str:
    """``memory.query`` + ``acme`` -> ``memory.query.acme`` (the notice adds the token)."""
    pattern: str = operations()[key]["pattern"]
    if not TENANT_PATTERN.match(tenant):
        raise MembusError(
            "INVALID_TENANT", f'invalid tenant "{tenant}": expected {TENANT_PATTERN.pattern}'
        )
    if "<token>" in pattern and (token is None or not NOTICE_TOKEN_PATTERN.match(token)):
        raise MembusError("INVALID_MESSAGE", f'invalid token "{token}" for {key}')
    return pattern.replace("<tenant>", tenant).replace("<token>", token or "")
