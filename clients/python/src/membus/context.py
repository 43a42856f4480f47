"""Query hits as a prompt block within a character budget (``formatContext`` of @membus/client)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .models import QueryHit


@dataclass(frozen=True)
class FormattedContext:
    text: str
    """The prompt block (empty when there are no hits)."""
    included: int
    """How many memories it holds."""
    omitted: int
    """Memories left out because the budget ran out (a line says so in the block)."""
    truncated: bool
    """Whether a memory text was cut short to fit."""


def format_context(
    hits: Sequence[QueryHit],
    *,
    max_chars: int = 2_000,
    metadata_keys: Sequence[str] = (),
    scores: bool = True,
    header: str = "Relevant memories:",
) -> FormattedContext:
    """Most relevant first, with the relevance score and chosen metadata; says when it left
    memories out."""
    if not hits or max_chars <= len(header) + 1:
        return FormattedContext(text="", included=0, omitted=len(hits), truncated=False)
    ordered = sorted(hits, key=lambda hit: hit.score, reverse=True)
    lines = [header]
    used = len(header)
    included = 0
    truncated = False

    def omitted_note(count: int) -> str:
        return f"({count} more not shown: context budget)"

    for index, hit in enumerate(ordered):
        details = ", ".join(
            [
                *([f"relevance {hit.scores.relevance:.2f}"] if scores else []),
                hit.memory.kind,
                *(
                    f"{key}={json.dumps(hit.memory.metadata[key], separators=(',', ':'))}"
                    for key in metadata_keys
                    if key in hit.memory.metadata
                ),
            ]
        )
        prefix = f"- [{details}] "
        text = re.sub(r"\s+", " ", hit.memory.text).strip()
        remaining = len(ordered) - index - 1
        # Keep room for the "more not shown" note whenever memories could follow.
        reserve = len(omitted_note(remaining)) + 1 if remaining > 0 else 0
        room = max_chars - used - 1 - len(prefix) - reserve
        if room <= 0:
            break
        if len(text) <= room:
            lines.append(prefix + text)
            used += 1 + len(prefix) + len(text)
            included += 1
            continue
        if room >= 40:
            lines.append(f"{prefix}{text[: room - 1]}…")
            used += 1 + len(prefix) + room
            included += 1
            truncated = True
        break
    omitted = len(ordered) - included
    if omitted > 0:
        lines.append(omitted_note(omitted))
    return FormattedContext(
        text="\n".join(lines), included=included, omitted=omitted, truncated=truncated
    )
