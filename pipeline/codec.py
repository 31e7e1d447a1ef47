"""The one JSON ⇄ model boundary (orjson). Anything undecodable becomes ``InvalidArticle``."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from pipeline.errors import InvalidArticle

M = TypeVar("M", bound=BaseModel)


def encode(message: BaseModel) -> bytes:
    return orjson.dumps(message.model_dump(mode="json", by_alias=True))


def to_dict(message: BaseModel) -> dict[str, Any]:
    return message.model_dump(mode="json", by_alias=True)


def decode(data: bytes | None, model: type[M]) -> M:
    """Decode and validate one message; the error reason is a short bounded token."""
    if data is None:
        raise InvalidArticle("empty-message", "message has no value")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidArticle("undecodable", f"not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidArticle("schema-invalid", "top level is not a JSON object")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InvalidArticle("schema-invalid", f"{where}: {first['msg']}") from None
