"""Models of every agent-facing membus operation (generated: do not edit).

Source: schema/operations.json (`pnpm gen:schemas`); regenerate with
`python clients/python/scripts/gen_models.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

Model = TypeAliasType("Model", Any)


class AnyOf(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    scope: Literal["app", "user", "agent", "session"]
    userId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    agentId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None


AnyItem = TypeAliasType(
    "AnyItem",
    Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ],
)


AllItem = TypeAliasType(
    "AllItem",
    Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ],
)


class Categories(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    any: Annotated[list[AnyItem] | None, Field(max_length=256, min_length=1)] = None
    all: Annotated[list[AllItem] | None, Field(max_length=256, min_length=1)] = None


class CreatedAt(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    gt: AwareDatetime | None = None
    gte: AwareDatetime | None = None
    lt: AwareDatetime | None = None
    lte: AwareDatetime | None = None


class MemoryFilter(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    ids: Annotated[list[UUID] | None, Field(max_length=500, min_length=1)] = None
    scopes: Annotated[
        list[Literal["app", "user", "agent", "session"]] | None, Field(min_length=1)
    ] = None
    anyOf: Annotated[list[AnyOf] | None, Field(max_length=8, min_length=1)] = None
    userId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    agentId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    kinds: Annotated[
        list[Literal["fact", "episode", "preference", "outcome", "pattern", "summary"]]
        | None,
        Field(min_length=1),
    ] = None
    tiers: Annotated[
        list[Literal["short", "mid", "long"]] | None, Field(min_length=1)
    ] = None
    categories: Categories | None = None
    tags: Categories | None = None
    metadata: dict[str, Any] | None = None
    """
    A condition {field, op, value} (op: eq, ne, gt, gte, lt, lte, in, nin, exists) or {and: [filters]}, {or: [filters]}, {not: filter}; at most 64 conditions, nested at most 8 deep.
    """
    createdAt: CreatedAt | None = None
    updatedAt: CreatedAt | None = None


class Weights(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    relevance: Annotated[float | None, Field(ge=0.0, le=1.0)] = 1
    recency: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0


class MemoryRecord(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    tenant: str
    scope: Literal["app", "user", "agent", "session"]
    userId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    agentId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    kind: Literal["fact", "episode", "preference", "outcome", "pattern", "summary"]
    text: str
    metadata: dict[str, Any]
    categories: list[str]
    tags: list[str]
    importance: Annotated[float, Field(ge=0.0, le=1.0)]
    tier: Literal["short", "mid", "long"]
    createdAt: AwareDatetime
    updatedAt: AwareDatetime
    expiresAt: AwareDatetime | None = None
    accessCount: Annotated[int, Field(ge=0, le=9007199254740991)]
    lastAccessedAt: AwareDatetime | None = None
    contentHash: str
    embeddingModel: str
    occurrences: Annotated[int, Field(ge=1, le=9007199254740991)]


class Scores(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    relevance: float
    recency: float
    importance: float
    dense: float | None = None
    keyword: float | None = None


class QueryHit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    memory: MemoryRecord
    score: float
    scores: Scores


class HistoryEntry(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    memoryId: UUID
    event: Literal["ADD", "DUPLICATE", "UPDATE", "DELETE", "EXPIRE", "MERGE"]
    at: AwareDatetime
    previousText: str | None = None
    text: str | None = None
    details: dict[str, Any] | None = None


class OmittedKeys(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    byNamespace: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    byCategory: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None


class Stats(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    executions: Annotated[int, Field(ge=0, le=9007199254740991)]
    successes: Annotated[int, Field(ge=0, le=9007199254740991)]
    failures: Annotated[int, Field(ge=0, le=9007199254740991)]
    successRate: Annotated[float, Field(ge=0.0, le=1.0)]
    durationAvgMs: float | None = None
    durationP50Ms: float | None = None
    durationP95Ms: float | None = None
    costAvg: float | None = None
    costTotal: float
    firstSeen: AwareDatetime | None = None
    lastSeen: AwareDatetime | None = None


Config = TypeAliasType("Config", Annotated[str, Field(max_length=200)])


class Patterns(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    taskType: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ]
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    kind: Literal["steps", "config"]
    signature: str
    steps: list[str]
    config: dict[
        Annotated[
            str,
            StringConstraints(
                pattern=r"^[^\s\p{Cc}][^\p{Cc}]*$", min_length=1, max_length=128
            ),
        ],
        Config | float | bool,
    ]
    support: Annotated[int, Field(ge=1, le=9007199254740991)]
    successes: Annotated[int, Field(ge=0, le=9007199254740991)]
    successRate: Annotated[float, Field(ge=0.0, le=1.0)]
    wilsonLowerBound: Annotated[float, Field(ge=0.0, le=1.0)]
    stats: Stats
    successDurationAvgMs: float | None = None
    costPerSuccess: float | None = None


class AvoidedBy(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    kind: Literal["steps", "config"]
    signature: str
    support: Annotated[int, Field(ge=1, le=9007199254740991)]
    successRate: Annotated[float, Field(ge=0.0, le=1.0)]


class Failures(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    taskType: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ]
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    signature: str
    count: Annotated[int, Field(ge=1, le=9007199254740991)]
    firstSeen: AwareDatetime
    lastSeen: AwareDatetime
    example: str
    exampleOutcomeId: UUID
    failingWorkflows: list[str]
    avoidedBy: AvoidedBy | None = None


class TaskTypes(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    taskType: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ]
    allTime: Stats
    recent: Stats
    workflows: Annotated[int, Field(ge=0, le=9007199254740991)]


class Overall(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    allTime: Stats
    recent: Stats
    taskTypeCount: Annotated[int, Field(ge=0, le=9007199254740991)]


class Session(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    sessionId: str
    summaryId: UUID | None = None
    summary: str | None = None
    memoriesIn: Annotated[int, Field(ge=0, le=9007199254740991)]
    memoriesOut: Annotated[int, Field(ge=0, le=9007199254740991)]
    duplicatesRemoved: Annotated[int, Field(ge=0, le=9007199254740991)]
    patternsExtracted: Annotated[int, Field(ge=0, le=9007199254740991)]
    originalBytes: Annotated[int, Field(ge=0, le=9007199254740991)]
    compactedBytes: Annotated[int, Field(ge=0, le=9007199254740991)]
    compressionRatio: float
    originals: Literal["deleted", "archived", "kept"]
    durationMs: Annotated[float, Field(ge=0.0)]
    dryRun: bool
    alreadyCompacted: bool
    outcomesHandedOver: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    outcomesSkipped: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None


class Changes(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    action: Literal[
        "promoted", "demoted", "archived", "deleted", "expired", "merged", "dropped"
    ]
    from_: Annotated[Literal["short", "mid", "long"] | None, Field(alias="from")] = None
    to: Literal["short", "mid", "long"] | None = None
    reason: str | None = None


class Sweeps(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    expired: Annotated[int, Field(ge=0, le=9007199254740991)]
    retentionApplied: Annotated[int, Field(ge=0, le=9007199254740991)]
    clustersMerged: Annotated[int, Field(ge=0, le=9007199254740991)]
    memoriesMerged: Annotated[int, Field(ge=0, le=9007199254740991)]
    tierMoves: Annotated[int, Field(ge=0, le=9007199254740991)]
    evicted: Annotated[int, Field(ge=0, le=9007199254740991)]
    archived: Annotated[int, Field(ge=0, le=9007199254740991)]
    overCapacityKept: Annotated[int, Field(ge=0, le=9007199254740991)]
    droppedUnimportant: Annotated[int, Field(ge=0, le=9007199254740991)]
    changes: Annotated[list[Changes], Field(max_length=500)]
    changesOmitted: Annotated[int, Field(ge=0, le=9007199254740991)]
    durationMs: Annotated[float, Field(ge=0.0)]


class Duplicates(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    ids: tuple[UUID, UUID]
    similarity: float
    text: str


class Stale(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: UUID
    idleDays: float
    text: str


JsonValue = TypeAliasType(
    "JsonValue",
    Optional[Union[str, float, bool, "list[JsonValue]", "dict[str, JsonValue]"]],
)


class ErrorBody(BaseModel):
    code: Literal[
        "INVALID_MESSAGE",
        "INVALID_TENANT",
        "LIMIT_EXCEEDED",
        "NOT_FOUND",
        "CONFLICT",
        "DIMENSION_MISMATCH",
        "UNAVAILABLE",
        "TIMEOUT",
        "INTERNAL",
        "EMBEDDING_FAILED",
        "BACKEND_FAILED",
    ]
    message: str
    retryable: bool
    details: dict[str, JsonValue] | None = None


class Report(BaseModel):
    sessionId: str
    summaryId: UUID | None = None
    summary: str | None = None
    memoriesIn: Annotated[int, Field(ge=0, le=9007199254740991)]
    memoriesOut: Annotated[int, Field(ge=0, le=9007199254740991)]
    duplicatesRemoved: Annotated[int, Field(ge=0, le=9007199254740991)]
    patternsExtracted: Annotated[int, Field(ge=0, le=9007199254740991)]
    originalBytes: Annotated[int, Field(ge=0, le=9007199254740991)]
    compactedBytes: Annotated[int, Field(ge=0, le=9007199254740991)]
    compressionRatio: float
    originals: Literal["deleted", "archived", "kept"]
    durationMs: Annotated[float, Field(ge=0.0)]
    dryRun: bool
    alreadyCompacted: bool
    outcomesHandedOver: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    outcomesSkipped: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None


Category = TypeAliasType(
    "Category",
    Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ],
)


Tag = TypeAliasType(
    "Tag",
    Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ],
)


class StoreMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: UUID
    scope: Literal["app", "user", "agent", "session"] | None = None
    userId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    agentId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    kind: (
        Literal["fact", "episode", "preference", "outcome", "pattern", "summary"] | None
    ) = "fact"
    text: Annotated[str, Field(max_length=32000)]
    metadata: dict[str, Any] | None = {}
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Category] | None, Field(max_length=32)] = None
    tags: Annotated[list[Tag] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.5
    tier: Literal["short", "mid", "long"] | None = None
    expiresAt: AwareDatetime | None = None
    ttlSeconds: Annotated[int | None, Field(gt=0, le=3153600000)] = None
    vector: Annotated[list[float] | None, Field(max_length=4096, min_length=1)] = None
    createdAt: AwareDatetime | None = None
    mergeSimilar: bool | None = None


class QueryRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    text: Annotated[str | None, Field(max_length=32000)] = None
    vector: Annotated[list[float] | None, Field(max_length=4096, min_length=1)] = None
    filter: MemoryFilter | None = None
    topK: Annotated[int | None, Field(ge=1, le=200)] = 10
    minScore: Annotated[float | None, Field(ge=-1.0, le=1.0)] = None
    weights: Weights | None = None
    recencyHalfLifeHours: Annotated[float | None, Field(gt=0.0, le=876000.0)] = 168
    mode: Literal["dense", "keyword", "hybrid"] | None = None


class QueryReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    hits: list[QueryHit]
    truncated: bool | None = None
    omitted: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    mode: Literal["dense", "keyword", "hybrid"]
    plan: str
    tookMs: float


class GetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    ids: Annotated[list[UUID], Field(max_length=500, min_length=1)]


class GetReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    memories: list[MemoryRecord]
    missing: list[UUID]
    pending: list[UUID] | None = None


class ListRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    filter: MemoryFilter | None = None
    limit: Annotated[int | None, Field(ge=1, le=500)] = 50
    cursor: Annotated[str | None, Field(max_length=512)] = None


class ListReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    memories: list[MemoryRecord]
    nextCursor: str | None = None


class UpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: UUID
    text: Annotated[str | None, Field(max_length=32000)] = None
    metadata: dict[str, Any] | None = None
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Category] | None, Field(max_length=32)] = None
    tags: Annotated[list[Tag] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    tier: Literal["short", "mid", "long"] | None = None
    expiresAt: AwareDatetime | None = None
    reason: Annotated[str | None, Field(max_length=300, min_length=1)] = None


class UpdateReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    memory: MemoryRecord


class DeleteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    ids: Annotated[list[UUID] | None, Field(max_length=500, min_length=1)] = None
    filter: MemoryFilter | None = None
    reason: Annotated[str | None, Field(max_length=300, min_length=1)] = None


class DeleteReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    deleted: Annotated[int, Field(ge=0, le=9007199254740991)]
    ids: list[UUID]
    truncated: bool | None = None


class HistoryRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: UUID
    cursor: Annotated[str | None, Field(max_length=512)] = None


class HistoryReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    entries: list[HistoryEntry]
    nextCursor: str | None = None


class StatsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    filter: MemoryFilter | None = None


ByScopeAdditionalProperty = TypeAliasType(
    "ByScopeAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


ByKindAdditionalProperty = TypeAliasType(
    "ByKindAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


ByTierAdditionalProperty = TypeAliasType(
    "ByTierAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


ByNamespaceAdditionalProperty = TypeAliasType(
    "ByNamespaceAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


ByCategoryAdditionalProperty = TypeAliasType(
    "ByCategoryAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


class StatsReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    total: Annotated[int, Field(ge=0, le=9007199254740991)]
    byScope: dict[str, ByScopeAdditionalProperty]
    byKind: dict[str, ByKindAdditionalProperty]
    byTier: dict[str, ByTierAdditionalProperty]
    byNamespace: dict[str, ByNamespaceAdditionalProperty]
    byCategory: dict[str, ByCategoryAdditionalProperty]
    omittedKeys: OmittedKeys | None = None
    oldest: AwareDatetime | None = None
    newest: AwareDatetime | None = None


Step = TypeAliasType("Step", Annotated[str, Field(max_length=200, min_length=1)])


class OutcomeMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: UUID
    taskType: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    request: Annotated[str | None, Field(max_length=4000, min_length=1)] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    agentId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    userId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    success: bool
    durationMs: Annotated[float | None, Field(ge=0.0, le=9007199254740991.0)] = None
    cost: Annotated[float | None, Field(ge=0.0, le=9007199254740991.0)] = None
    steps: Annotated[list[Step] | None, Field(max_length=64)] = []
    config: dict[str, str | float | bool] | None = {}
    """
    A flat record of scalars (at most 32 keys).
    """
    error: Annotated[str | None, Field(max_length=4000, min_length=1)] = None
    metadata: dict[str, Any] | None = {}
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    occurredAt: AwareDatetime


class PatternsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskType: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    request: Annotated[str | None, Field(max_length=4000, min_length=1)] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    minSuccessRate: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0
    minSupport: Annotated[int | None, Field(ge=1, le=1000000)] = 1
    objective: Literal["success_rate", "duration", "cost"] | None = "success_rate"
    variantKinds: Annotated[
        list[Literal["steps", "config"]] | None, Field(min_length=1)
    ] = ["steps", "config"]
    limit: Annotated[int | None, Field(ge=1, le=100)] = 10
    includeFailures: bool | None = True


class PatternsReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskType: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    inferred: bool
    patterns: list[Patterns]
    failures: list[Failures]


class MetricsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskType: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None


class MetricsReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskTypes: list[TaskTypes]
    overall: Overall
    recentWindowDays: Annotated[float, Field(gt=0.0)]


class SessionEndMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    sessionId: Annotated[
        str, Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$")
    ]
    endedAt: AwareDatetime | None = None


class CompactRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    sessionId: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    sweeps: Annotated[
        list[Literal["expire", "duplicates", "tiers", "importance", "retention"]]
        | None,
        Field(max_length=5),
    ] = None
    dryRun: bool | None = False


class CompactReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    dryRun: bool
    session: Session | None = None
    sweeps: Sweeps | None = None


class AuditRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    namespace: Annotated[
        str | None,
        Field(max_length=128, min_length=1, pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$"),
    ] = None
    staleDays: Annotated[float | None, Field(gt=0.0, le=36500.0)] = 90
    duplicateThreshold: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.95
    maxMemories: Annotated[int | None, Field(ge=1, le=100000)] = 5000


OverCapacityAdditionalProperty = TypeAliasType(
    "OverCapacityAdditionalProperty", Annotated[int, Field(ge=0, le=9007199254740991)]
)


class AuditReply(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    total: Annotated[int, Field(ge=0, le=9007199254740991)]
    byCategory: dict[str, ByCategoryAdditionalProperty]
    byNamespace: dict[str, ByNamespaceAdditionalProperty]
    byTier: dict[str, ByTierAdditionalProperty]
    byKind: dict[str, ByKindAdditionalProperty]
    duplicates: list[Duplicates]
    stale: list[Stale]
    duplicatesFound: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    staleFound: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    overCapacity: dict[str, OverCapacityAdditionalProperty]
    recommendations: list[str]
    examined: Annotated[int, Field(ge=0, le=9007199254740991)]


class NoticeMessage(BaseModel):
    v: Literal[1]
    id: UUID
    status: Literal["stored", "duplicate", "merged", "failed"]
    memoryId: UUID
    error: ErrorBody | None = None


class CompactedMessage(BaseModel):
    v: Literal[1]
    report: Report
    at: AwareDatetime
