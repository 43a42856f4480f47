"""What ``MemoryClient.ingest`` gives back (decision 010)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from . import models


@dataclass(frozen=True)
class IngestResult:
    """An ingest: its id; with ``wait='extracted'`` also what the extractor did: ``status``
    (``extracted``, or ``raw`` when the text was stored as it is, ``reason`` saying why), the
    ``decisions`` (ADD / UPDATE / DELETE / NONE, each with its memory) and the ``model``."""

    id: uuid.UUID
    status: Literal["extracted", "raw", "failed"] | None = None
    reason: str | None = None
    decisions: list[models.Decisions] = field(default_factory=list)
    raw_memory_ids: list[uuid.UUID] = field(default_factory=list)
    model: str | None = None
