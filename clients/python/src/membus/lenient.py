"""The base of the models of what a server sends: replies and the messages agents receive.

Needs pydantic 2.12 or later (validation-time `extra`)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class LenientModel(BaseModel):
    """Ignores fields it does not know, at every depth, so a server that adds a field to a reply
    does not break older clients. A shape that a reply shares with a request is one model,
    strict for the request (a misspelt field is an error where it is written); validated under
    this model, its unknown fields are ignored too."""

    model_config = ConfigDict(extra="ignore")

    def __init__(self, /, **data: Any) -> None:
        self.__pydantic_validator__.validate_python(data, self_instance=self, extra="ignore")

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        return super().model_validate(obj, **{"extra": "ignore", **options})

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        return super().model_validate_json(json_data, **{"extra": "ignore", **options})
