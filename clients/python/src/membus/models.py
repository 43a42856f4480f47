"""Models of every agent-facing membus operation (generated: do not edit).

Source: schema/operations.json (`pnpm gen:schemas`); regenerate with
`python clients/python/scripts/gen_models.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

from membus.lenient import LenientModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

Model = TypeAliasType("Model", Any)


Uuid = TypeAliasType("Uuid", Annotated[UUID, Field(title="Uuid")])


Label = TypeAliasType(
    "Label",
    Annotated[
        str,
        Field(
            max_length=128,
            min_length=1,
            pattern="^[^\\s\\p{Cc}][^\\p{Cc}]*$",
            title="Label",
        ),
    ],
)


Timestamp = TypeAliasType(
    "Timestamp", Annotated[AwareDatetime, Field(title="Timestamp")]
)


class AnyOf(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    scope: Literal["app", "user", "agent", "session"]
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None


class Categories(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    any: Annotated[list[Label] | None, Field(max_length=256, min_length=1)] = None
    all: Annotated[list[Label] | None, Field(max_length=256, min_length=1)] = None


class CreatedAt(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    gt: Timestamp | None = None
    gte: Timestamp | None = None
    lt: Timestamp | None = None
    lte: Timestamp | None = None


class MemoryFilter(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    ids: Annotated[list[Uuid] | None, Field(max_length=500, min_length=1)] = None
    scopes: Annotated[
        list[Literal["app", "user", "agent", "session"]] | None, Field(min_length=1)
    ] = None
    anyOf: Annotated[list[AnyOf] | None, Field(max_length=8, min_length=1)] = None
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
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
    id: Uuid
    tenant: str
    scope: Literal["app", "user", "agent", "session"]
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
    kind: Literal["fact", "episode", "preference", "outcome", "pattern", "summary"]
    text: str
    context: str | None = None
    metadata: dict[str, Any]
    categories: list[str]
    tags: list[str]
    importance: Annotated[float, Field(ge=0.0, le=1.0)]
    tier: Literal["short", "mid", "long"]
    createdAt: Timestamp
    updatedAt: Timestamp
    expiresAt: Timestamp | None = None
    accessCount: Annotated[int, Field(ge=0, le=9007199254740991)]
    lastAccessedAt: Timestamp | None = None
    contentHash: str
    embeddingModel: str
    occurrences: Annotated[int, Field(ge=1, le=9007199254740991)]


class Scores(BaseModel):
    relevance: float
    recency: float
    importance: float
    dense: float | None = None
    keyword: float | None = None


class QueryHit(BaseModel):
    memory: MemoryRecord
    score: float
    scores: Scores


class Changes(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    metadata: dict[str, Any] | None = None
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label] | None, Field(max_length=32)] = None
    tags: Annotated[list[Label] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    tier: Literal["short", "mid", "long"] | None = None
    expiresAt: Timestamp | None = None


Label2 = TypeAliasType(
    "Label2", Annotated[str, Field(pattern="^[a-f0-9]{64}$", title="Label2")]
)


class MemoryRecord2(BaseModel):
    id: Uuid
    scope: Literal["app", "user", "agent", "session"] | None = None
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
    kind: Literal["fact", "episode", "preference", "outcome", "pattern", "summary"]
    text: Annotated[str, Field(max_length=32000)]
    metadata: dict[str, Any]
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label], Field(max_length=32)]
    tags: Annotated[list[Label], Field(max_length=32)]
    importance: Annotated[float, Field(ge=0.0, le=1.0)]
    tier: Literal["short", "mid", "long"] | None = None
    createdAt: Timestamp | None = None
    updatedAt: Timestamp | None = None
    expiresAt: Timestamp | None = None
    accessCount: Annotated[int, Field(ge=0, le=9007199254740991)]
    lastAccessedAt: Timestamp | None = None
    contentHash: Label2 | None = None
    embeddingModel: Annotated[str | None, Field(max_length=200, min_length=1)] = None
    occurrences: Annotated[int, Field(ge=1, le=9007199254740991)]


class History(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    event: Literal["ADD", "DUPLICATE", "UPDATE", "DELETE", "EXPIRE", "MERGE"]
    at: Timestamp
    previousText: Annotated[str | None, Field(max_length=32000)] = None
    text: Annotated[str | None, Field(max_length=32000)] = None
    details: dict[str, Any] | None = None
    """
    Event-specific JSON.
    """


class Vector(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    model: Annotated[str, Field(max_length=200, min_length=1)]
    dimension: Annotated[int, Field(ge=1, le=4096)]
    data: Annotated[str, Field(max_length=32768)]


class Lines(BaseModel):
    v: Literal[1]
    memory: MemoryRecord2
    history: Annotated[list[History] | None, Field(max_length=500)] = None
    vector: Vector | None = None


class MemoryRecord3(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Uuid
    scope: Literal["app", "user", "agent", "session"] | None = None
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
    kind: (
        Literal["fact", "episode", "preference", "outcome", "pattern", "summary"] | None
    ) = "fact"
    text: Annotated[str, Field(max_length=32000)]
    metadata: dict[str, Any] | None = {}
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label] | None, Field(max_length=32)] = []
    tags: Annotated[list[Label] | None, Field(max_length=32)] = []
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.5
    tier: Literal["short", "mid", "long"] | None = None
    createdAt: Timestamp | None = None
    updatedAt: Timestamp | None = None
    expiresAt: Timestamp | None = None
    accessCount: Annotated[int | None, Field(ge=0, le=9007199254740991)] = 0
    lastAccessedAt: Timestamp | None = None
    contentHash: Label2 | None = None
    embeddingModel: Annotated[str | None, Field(max_length=200, min_length=1)] = None
    occurrences: Annotated[int | None, Field(ge=1, le=9007199254740991)] = 1


class MemoryRecord4(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    memory: MemoryRecord3
    history: Annotated[list[History] | None, Field(max_length=500)] = None
    vector: Vector | None = None


ErrorCode = Literal[
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


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    retryable: bool
    details: dict[str, Any] | None = None


class Results(BaseModel):
    id: Uuid
    status: Literal["imported", "present", "overwritten", "conflict", "failed"]
    error: ErrorBody | None = None
    vectorKept: bool | None = None


class HistoryEntry(BaseModel):
    memoryId: Uuid
    event: Literal["ADD", "DUPLICATE", "UPDATE", "DELETE", "EXPIRE", "MERGE"]
    at: Timestamp
    previousText: str | None = None
    text: str | None = None
    details: dict[str, Any] | None = None


class OmittedKeys(BaseModel):
    byNamespace: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None
    byCategory: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None


class Stats(BaseModel):
    executions: Annotated[int, Field(ge=0, le=9007199254740991)]
    successes: Annotated[int, Field(ge=0, le=9007199254740991)]
    failures: Annotated[int, Field(ge=0, le=9007199254740991)]
    successRate: Annotated[float, Field(ge=0.0, le=1.0)]
    durationAvgMs: float | None = None
    durationP50Ms: float | None = None
    durationP95Ms: float | None = None
    costAvg: float | None = None
    costTotal: float
    firstSeen: Timestamp | None = None
    lastSeen: Timestamp | None = None


Config = TypeAliasType("Config", Annotated[str, Field(max_length=200)])


class Patterns(BaseModel):
    id: Uuid
    taskType: Label
    namespace: Label | None = None
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
    id: Uuid
    kind: Literal["steps", "config"]
    signature: str
    support: Annotated[int, Field(ge=1, le=9007199254740991)]
    successRate: Annotated[float, Field(ge=0.0, le=1.0)]


class Failures(BaseModel):
    id: Uuid
    taskType: Label
    namespace: Label | None = None
    signature: str
    count: Annotated[int, Field(ge=1, le=9007199254740991)]
    firstSeen: Timestamp
    lastSeen: Timestamp
    example: str
    exampleOutcomeId: Uuid
    failingWorkflows: list[str]
    avoidedBy: AvoidedBy | None = None


class TaskTypes(BaseModel):
    taskType: Label
    allTime: Stats
    recent: Stats
    workflows: Annotated[int, Field(ge=0, le=9007199254740991)]


class Overall(BaseModel):
    allTime: Stats
    recent: Stats
    taskTypeCount: Annotated[int, Field(ge=0, le=9007199254740991)]


class Session(BaseModel):
    sessionId: str
    summaryId: Uuid | None = None
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


class Changes2(BaseModel):
    id: Uuid
    action: Literal[
        "promoted", "demoted", "archived", "deleted", "expired", "merged", "dropped"
    ]
    from_: Annotated[Literal["short", "mid", "long"] | None, Field(alias="from")] = None
    to: Literal["short", "mid", "long"] | None = None
    reason: str | None = None


class Sweeps(BaseModel):
    expired: Annotated[int, Field(ge=0, le=9007199254740991)]
    retentionApplied: Annotated[int, Field(ge=0, le=9007199254740991)]
    clustersMerged: Annotated[int, Field(ge=0, le=9007199254740991)]
    memoriesMerged: Annotated[int, Field(ge=0, le=9007199254740991)]
    tierMoves: Annotated[int, Field(ge=0, le=9007199254740991)]
    evicted: Annotated[int, Field(ge=0, le=9007199254740991)]
    archived: Annotated[int, Field(ge=0, le=9007199254740991)]
    overCapacityKept: Annotated[int, Field(ge=0, le=9007199254740991)]
    droppedUnimportant: Annotated[int, Field(ge=0, le=9007199254740991)]
    changes: Annotated[list[Changes2], Field(max_length=500)]
    changesOmitted: Annotated[int, Field(ge=0, le=9007199254740991)]
    durationMs: Annotated[float, Field(ge=0.0)]


Id = TypeAliasType("Id", UUID)


class Duplicates(BaseModel):
    ids: tuple[Id, Id]
    similarity: float
    text: str


class Stale(BaseModel):
    id: Uuid
    idleDays: float
    text: str


Label3 = TypeAliasType(
    "Label3",
    Annotated[str, Field(pattern="^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", title="Label3")],
)


class Text(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    regex: Annotated[str, Field(max_length=1000, min_length=1)]
    ignoreCase: bool | None = None


class Text2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    contains: Annotated[str, Field(max_length=1000, min_length=1)]
    ignoreCase: bool | None = None


class Match(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    namespaces: Annotated[list[Label] | None, Field(max_length=256, min_length=1)] = (
        None
    )
    scopes: Annotated[
        list[Literal["app", "user", "agent", "session"]] | None, Field(min_length=1)
    ] = None
    kinds: Annotated[
        list[Literal["fact", "episode", "preference", "outcome", "pattern", "summary"]]
        | None,
        Field(min_length=1),
    ] = None
    text: Annotated[list[Text | Text2] | None, Field(max_length=32, min_length=1)] = (
        None
    )
    notText: Annotated[
        list[Text | Text2] | None, Field(max_length=32, min_length=1)
    ] = None
    minLength: Annotated[int | None, Field(ge=0, le=32000)] = None
    maxLength: Annotated[int | None, Field(ge=0, le=32000)] = None
    metadata: dict[str, Any] | None = None
    """
    A condition {field, op, value} (op: eq, ne, gt, gte, lt, lte, in, nin, exists) or {and: [filters]}, {or: [filters]}, {not: filter}; at most 64 conditions, nested at most 8 deep.
    """
    categories: Categories | None = None
    tags: Categories | None = None


class Action(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    type: Literal["drop"]
    reason: Label3


class Action2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    type: Literal["annotate"]
    categories: Annotated[list[Label] | None, Field(max_length=32)] = None
    tags: Annotated[list[Label] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    stop: bool | None = None


class Rules(BaseModel):
    name: Label3
    description: Annotated[str | None, Field(max_length=500)] = None
    match: Match
    action: Action | Action2


TtlSeconds = TypeAliasType("TtlSeconds", Annotated[int, Field(gt=0, le=3153600000)])


class Expiry(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    category: Label
    ttlSeconds: TtlSeconds | None


class Policy(BaseModel):
    v: Literal[1]
    description: Annotated[str | None, Field(max_length=2000)] = None
    rules: Annotated[list[Rules], Field(max_length=100)]
    expiry: Annotated[list[Expiry], Field(max_length=64)]


class Rules2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    name: Label3
    description: Annotated[str | None, Field(max_length=500)] = None
    match: Match | None = None
    action: Action | Action2


class Policy2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    description: Annotated[str | None, Field(max_length=2000)] = None
    rules: Annotated[
        list[Rules2] | None, Field(max_length=100, validate_default=True)
    ] = []
    expiry: Annotated[
        list[Expiry] | None, Field(max_length=64, validate_default=True)
    ] = []


class Versions(BaseModel):
    version: Annotated[int, Field(ge=1, le=9007199254740991)]
    updatedAt: Timestamp
    rules: Annotated[int, Field(ge=0, le=9007199254740991)]
    ruleNames: list[str]


Label4 = TypeAliasType(
    "Label4",
    Annotated[
        str,
        Field(
            max_length=200,
            min_length=1,
            pattern="^[A-Za-z0-9][A-Za-z0-9._:/@-]*$",
            title="Label4",
        ),
    ],
)


JsonValue = TypeAliasType(
    "JsonValue",
    Optional[Union[str, float, bool, "list[JsonValue]", "dict[str, JsonValue]"]],
)


class ErrorBody2(BaseModel):
    code: ErrorCode
    message: str
    retryable: bool
    details: dict[str, JsonValue] | None = None


class Policy3(BaseModel):
    version: Annotated[int, Field(ge=1, le=9007199254740991)]
    rule: str
    reason: str


Label5 = TypeAliasType(
    "Label5", Annotated[str, Field(pattern="^[A-Za-z0-9_-]{1,64}$", title="Label5")]
)


class From(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    time: Timestamp


class From2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    seq: Annotated[int, Field(ge=1, le=9007199254740991)]


class MemoryFilter2(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    changes: Annotated[
        list[Literal["created", "duplicate", "updated", "deleted", "expired", "merged"]]
        | None,
        Field(min_length=1),
    ] = None
    memory: MemoryFilter | None = None


class Event(BaseModel):
    v: Literal[1]
    change: Literal["created", "duplicate", "updated", "deleted", "expired", "merged"]
    id: Uuid
    memory: MemoryRecord | None = None
    at: Timestamp


class Turns(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    id: Label | None = None
    role: Literal["user", "assistant", "system", "tool"]
    content: Annotated[str, Field(max_length=32000)]
    at: Timestamp | None = None


class Decisions(BaseModel):
    event: Literal["ADD", "UPDATE", "DELETE", "NONE"]
    text: str
    memoryId: Uuid | None = None
    previousText: str | None = None
    dropped: str | None = None


class StoreMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: Uuid
    scope: Literal["app", "user", "agent", "session"] | None = None
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
    kind: (
        Literal["fact", "episode", "preference", "outcome", "pattern", "summary"] | None
    ) = "fact"
    text: Annotated[str, Field(max_length=32000)]
    context: Annotated[str | None, Field(max_length=32000)] = None
    metadata: dict[str, Any] | None = {}
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label] | None, Field(max_length=32)] = None
    tags: Annotated[list[Label] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.5
    tier: Literal["short", "mid", "long"] | None = None
    expiresAt: Timestamp | None = None
    ttlSeconds: Annotated[int | None, Field(gt=0, le=3153600000)] = None
    vector: Annotated[list[float] | None, Field(max_length=4096, min_length=1)] = None
    createdAt: Timestamp | None = None
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


class QueryReply(LenientModel):
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
    ids: Annotated[list[Uuid], Field(max_length=500, min_length=1)]


class GetReply(LenientModel):
    v: Literal[1]
    memories: list[MemoryRecord]
    missing: list[Uuid]
    pending: list[Uuid] | None = None


class ListRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    filter: MemoryFilter | None = None
    limit: Annotated[int | None, Field(ge=1, le=500)] = 50
    cursor: Annotated[str | None, Field(max_length=512)] = None


class ListReply(LenientModel):
    v: Literal[1]
    memories: list[MemoryRecord]
    nextCursor: str | None = None


class UpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: Uuid
    text: Annotated[str | None, Field(max_length=32000)] = None
    metadata: dict[str, Any] | None = None
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label] | None, Field(max_length=32)] = None
    tags: Annotated[list[Label] | None, Field(max_length=32)] = None
    importance: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    tier: Literal["short", "mid", "long"] | None = None
    expiresAt: Timestamp | None = None
    reason: Annotated[str | None, Field(max_length=300, min_length=1)] = None


class UpdateReply(LenientModel):
    v: Literal[1]
    memory: MemoryRecord


class DeleteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    ids: Annotated[list[Uuid] | None, Field(max_length=500, min_length=1)] = None
    filter: MemoryFilter | None = None
    reason: Annotated[str | None, Field(max_length=300, min_length=1)] = None


class DeleteReply(LenientModel):
    v: Literal[1]
    deleted: Annotated[int, Field(ge=0, le=9007199254740991)]
    ids: list[Uuid]
    truncated: bool | None = None


class BatchUpdateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    ids: Annotated[list[Uuid] | None, Field(max_length=500, min_length=1)] = None
    filter: MemoryFilter | None = None
    cursor: Annotated[str | None, Field(max_length=512)] = None
    limit: Annotated[int | None, Field(ge=1, le=500)] = 500
    changes: Changes
    reason: Annotated[str | None, Field(max_length=300, min_length=1)] = None


class BatchUpdateReply(LenientModel):
    v: Literal[1]
    updated: Annotated[int, Field(ge=0, le=9007199254740991)]
    unchanged: Annotated[int, Field(ge=0, le=9007199254740991)]
    ids: list[Uuid]
    missing: list[Uuid]
    nextCursor: str | None = None


class ExportRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    filter: MemoryFilter | None = None
    limit: Annotated[int | None, Field(ge=1, le=500)] = 200
    cursor: Annotated[str | None, Field(max_length=512)] = None
    withHistory: bool | None = False
    withVectors: bool | None = False


class ExportReply(LenientModel):
    v: Literal[1]
    lines: list[Lines]
    nextCursor: str | None = None


class ImportRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    memories: Annotated[list[MemoryRecord4], Field(max_length=500, min_length=1)]
    onConflict: Literal["report", "overwrite"] | None = "report"


class ImportReply(LenientModel):
    v: Literal[1]
    results: list[Results]


class HistoryRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: Uuid
    cursor: Annotated[str | None, Field(max_length=512)] = None


class HistoryReply(LenientModel):
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
    "ByKindAdditionalProperty", ByScopeAdditionalProperty
)


ByTierAdditionalProperty = TypeAliasType(
    "ByTierAdditionalProperty", ByScopeAdditionalProperty
)


ByNamespaceAdditionalProperty = TypeAliasType(
    "ByNamespaceAdditionalProperty", ByScopeAdditionalProperty
)


ByCategoryAdditionalProperty = TypeAliasType(
    "ByCategoryAdditionalProperty", ByScopeAdditionalProperty
)


class StatsReply(LenientModel):
    v: Literal[1]
    total: Annotated[int, Field(ge=0, le=9007199254740991)]
    byScope: dict[str, ByScopeAdditionalProperty]
    byKind: dict[str, ByKindAdditionalProperty]
    byTier: dict[str, ByTierAdditionalProperty]
    byNamespace: dict[str, ByNamespaceAdditionalProperty]
    byCategory: dict[str, ByCategoryAdditionalProperty]
    omittedKeys: OmittedKeys | None = None
    oldest: Timestamp | None = None
    newest: Timestamp | None = None


Step = TypeAliasType("Step", Annotated[str, Field(max_length=200, min_length=1)])


class OutcomeMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: Uuid
    taskType: Label | None = None
    request: Annotated[str | None, Field(max_length=4000, min_length=1)] = None
    namespace: Label | None = None
    agentId: Label | None = None
    userId: Label | None = None
    sessionId: Label | None = None
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
    occurredAt: Timestamp


class PatternsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskType: Label | None = None
    request: Annotated[str | None, Field(max_length=4000, min_length=1)] = None
    namespace: Label | None = None
    minSuccessRate: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0
    minSupport: Annotated[int | None, Field(ge=1, le=1000000)] = 1
    objective: Literal["success_rate", "duration", "cost"] | None = "success_rate"
    variantKinds: Annotated[
        list[Literal["steps", "config"]] | None, Field(min_length=1)
    ] = ["steps", "config"]
    limit: Annotated[int | None, Field(ge=1, le=100)] = 10
    includeFailures: bool | None = True


class PatternsReply(LenientModel):
    v: Literal[1]
    taskType: Label | None = None
    inferred: bool
    patterns: list[Patterns]
    failures: list[Failures]


class MetricsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    taskType: Label | None = None
    namespace: Label | None = None


class MetricsReply(LenientModel):
    v: Literal[1]
    taskTypes: list[TaskTypes]
    overall: Overall
    recentWindowDays: Annotated[float, Field(gt=0.0)]


class SessionEndMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    sessionId: Label
    endedAt: Timestamp | None = None


class CompactRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    sessionId: Label | None = None
    sweeps: Annotated[
        list[Literal["expire", "duplicates", "tiers", "importance", "retention"]]
        | None,
        Field(max_length=5),
    ] = None
    dryRun: bool | None = False


class CompactReply(LenientModel):
    v: Literal[1]
    dryRun: bool
    session: Session | None = None
    sweeps: Sweeps | None = None


class AuditRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    namespace: Label | None = None
    staleDays: Annotated[float | None, Field(gt=0.0, le=36500.0)] = 90
    duplicateThreshold: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.95
    maxMemories: Annotated[int | None, Field(ge=1, le=100000)] = 5000


OverCapacityAdditionalProperty = TypeAliasType(
    "OverCapacityAdditionalProperty", ByScopeAdditionalProperty
)


class AuditReply(LenientModel):
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


class PolicyGetRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    version: Annotated[int | None, Field(ge=1, le=9007199254740991)] = None


class PolicyGetReply(LenientModel):
    v: Literal[1]
    version: Annotated[int, Field(ge=0, le=9007199254740991)]
    policy: Policy | None = None
    updatedAt: Timestamp | None = None


class PolicyPutRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    policy: Policy2
    expectedVersion: Annotated[int, Field(ge=0, le=9007199254740991)]


class PolicyPutReply(LenientModel):
    v: Literal[1]
    version: Annotated[int, Field(ge=1, le=9007199254740991)]
    updatedAt: Timestamp


class PolicyHistoryRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    before: Annotated[int | None, Field(ge=2, le=9007199254740991)] = None
    limit: Annotated[int | None, Field(ge=1, le=100)] = 20


class PolicyHistoryReply(LenientModel):
    v: Literal[1]
    version: Annotated[int, Field(ge=0, le=9007199254740991)]
    versions: list[Versions]
    nextBefore: Annotated[
        int | None, Field(ge=-9007199254740991, le=9007199254740991)
    ] = None


class ReembedRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    action: Literal["start", "status", "cancel"] | None = "status"
    model: Label4 | None = None
    dryRun: bool | None = None


class ReembedReply(LenientModel):
    v: Literal[1]
    state: Literal["idle", "running", "cleaning"]
    activeModel: str | None = None
    targetModel: str | None = None
    done: Annotated[int, Field(ge=0, le=9007199254740991)]
    total: Annotated[int, Field(ge=0, le=9007199254740991)]
    tokens: Annotated[int, Field(ge=0, le=9007199254740991)]
    startedAt: Timestamp | None = None
    dryRun: bool | None = None


class NoticeMessage(LenientModel):
    v: Literal[1]
    id: Uuid
    status: Literal["stored", "duplicate", "merged", "failed", "dropped"]
    memoryId: Uuid
    error: ErrorBody2 | None = None
    policy: Policy3 | None = None


class CompactedMessage(LenientModel):
    v: Literal[1]
    report: Session
    at: Timestamp


class WatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    token: Label5
    action: Literal["start", "renew", "stop"] | None = "start"
    from_: Annotated[
        Literal["now"] | From | From2 | None, Field(alias="from", validate_default=True)
    ] = "now"
    filter: MemoryFilter2 | None = None
    consumed: Annotated[int | None, Field(ge=0, le=9007199254740991)] = None


class WatchReply(LenientModel):
    v: Literal[1]
    active: bool
    startSeq: Annotated[int, Field(ge=0, le=9007199254740991)]
    truncated: bool
    leaseMs: Annotated[int, Field(gt=0, le=9007199254740991)]
    heartbeatMs: Annotated[int, Field(gt=0, le=9007199254740991)]


class FeedMessage(LenientModel):
    v: Literal[1]
    type: Literal["event", "heartbeat"]
    seq: Annotated[int | None, Field(ge=1, le=9007199254740991)] = None
    previous: Annotated[int, Field(ge=0, le=9007199254740991)]
    event: Event | None = None


class IngestMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
    )
    v: Literal[1]
    id: Uuid
    scope: Literal["app", "user", "agent", "session"] | None = None
    userId: Label | None = None
    agentId: Label | None = None
    sessionId: Label | None = None
    namespace: Label | None = None
    turns: Annotated[list[Turns] | None, Field(max_length=100, min_length=1)] = None
    text: Annotated[str | None, Field(max_length=32000)] = None
    metadata: dict[str, Any] | None = {}
    """
    A JSON object: at most 16384 bytes encoded, nested at most 8 deep, no __proto__/constructor/prototype keys.
    """
    categories: Annotated[list[Label] | None, Field(max_length=32)] = None
    tags: Annotated[list[Label] | None, Field(max_length=32)] = None
    extract: bool | None = True


class ExtractedMessage(LenientModel):
    v: Literal[1]
    id: Uuid
    status: Literal["extracted", "raw", "failed"]
    reason: str | None = None
    decisions: list[Decisions]
    rawMemoryIds: list[Uuid] | None = None
    model: str | None = None
    error: ErrorBody2 | None = None
