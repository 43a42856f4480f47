"""membus: memory for AI agents on NATS — the Python client of ``@membus/client``.

async with await membus.connect("nats://127.0.0.1:4222", tenant="acme", creds_file=...) as memory:
    await memory.store({"text": "Deploys to Vercel need NODE_ENV=production"}, wait="queryable")
    result = await memory.query("how do we deploy")
"""

from . import models
from .client import (
    GetManyResult,
    ListPage,
    MemoryClient,
    QueryResult,
    StoreResult,
    connect,
    uuid7,
)
from .context import FormattedContext, format_context
from .errors import ERROR_CODES, MembusError
from .ingest import IngestResult
from .models import ErrorCode, HistoryEntry, MemoryFilter, MemoryRecord, QueryHit

__all__ = [
    "ERROR_CODES",
    "ErrorCode",
    "FormattedContext",
    "GetManyResult",
    "HistoryEntry",
    "IngestResult",
    "ListPage",
    "MembusError",
    "MemoryClient",
    "MemoryFilter",
    "MemoryRecord",
    "QueryHit",
    "QueryResult",
    "StoreResult",
    "connect",
    "format_context",
    "models",
    "uuid7",
]
