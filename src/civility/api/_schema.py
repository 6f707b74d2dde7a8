"""Request bodies as pydantic models: parsed strictly, documented in the OpenAPI document,
and every validation failure turned into Google's ``INVALID_ARGUMENT`` body."""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civility.api._errors import ApiError, invalid

ScoreType = Literal["SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW"]
TextType = Literal["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TextEntry(_Strict):
    """A piece of text: plain, or HTML scored on its text."""

    text: str | None = None
    type: TextType | None = None


class ArticleAndParentComment(_Strict):
    article: TextEntry | None = None
    parentComment: TextEntry | None = None


class Context(_Strict):
    """Text around the comment; accepted for compatibility, not used in scoring."""

    entries: list[TextEntry] | None = None
    articleAndParentComment: ArticleAndParentComment | None = None


class AttributeParameters(_Strict):
    scoreType: ScoreType | None = None
    scoreThreshold: float | None = None


class Score(_Strict):
    value: float | None = None
    type: ScoreType | None = None


class SpanScore(_Strict):
    begin: int | None = None
    end: int | None = None
    score: Score | None = None


class AttributeScores(_Strict):
    summaryScore: Score | None = None
    spanScores: list[SpanScore] | None = None


class AnalyzeCommentRequest(_Strict):
    """Perspective's ``comments:analyze`` request."""

    comment: TextEntry | None = None
    context: Context | None = None
    requestedAttributes: dict[str, AttributeParameters | None] | None = None
    languages: list[str] | None = None
    spanAnnotations: bool | None = None
    doNotStore: bool | None = None
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = Field(
        default=None,
        description=(
            "The site: its suggestscore calibration, or its serving adapter when it has one "
            "(the response then carries civilityAdapter). Without it, the site the API key "
            "is bound to."
        ),
    )


class SuggestCommentScoreRequest(_Strict):
    """Perspective's ``comments:suggestscore`` request: the scores a community would give."""

    comment: TextEntry | None = None
    context: Context | None = None
    attributeScores: dict[str, AttributeScores] | None = None
    languages: list[str] | None = None
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = None


_SITE = (
    "The site whose adapter scores the comments (else communityId, else the site the API key "
    "is bound to); the response's 'adapter' names the adapter version that scored, or is null "
    "when the base model did."
)


class NativeComment(_Strict):
    id: str | None = None
    text: str


class ScoreRequest(_Strict):
    """``POST /api/v1/score``: up to 1,000 comments scored, explained and decided."""

    comments: list[NativeComment] = Field(min_length=1, max_length=1000)
    attributes: list[str] | None = None
    spans: bool = False
    communityId: str | None = None
    site: str | None = Field(default=None, description=_SITE)
    policy: dict[str, Any] | None = None


class ArticleIn(_Strict):
    title: str = ""
    paragraphs: list[str] = Field(default_factory=list)
    url: str | None = None


class ThreadComment(_Strict):
    id: str
    author: str | None = None
    text: str
    parent_id: str | None = None
    created_at: str | None = None


class ThreadRequest(_Strict):
    """``POST /api/v1/threads``: a whole page (article and comments) analysed at once."""

    article: ArticleIn | str | None = None
    comments: list[ThreadComment] = Field(max_length=1000)
    attributes: list[str] | None = None
    spans: bool = False
    communityId: str | None = None
    site: str | None = Field(default=None, description=_SITE)
    policy: dict[str, Any] | None = None


SCHEMAS: tuple[type[BaseModel], ...] = (
    AnalyzeCommentRequest,
    SuggestCommentScoreRequest,
    ScoreRequest,
    ThreadRequest,
)

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: bytes) -> M:
    """Decode and validate a JSON body; any failure is a 400 with a one-line message."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(
            f"Invalid JSON payload received. Invalid UTF-8 at byte {exc.start}."
        ) from None
    if not text.strip():
        text = "{}"
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise _translate(exc) from None


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _translate(exc: ValidationError) -> ApiError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "json_invalid":
        return invalid(f"Invalid JSON payload received. {err['msg']}.")
    if kind == "extra_forbidden":
        at = f" at '{_where(loc[:-1])}'" if len(loc) > 1 else ""
        return invalid(
            f'Invalid JSON payload received. Unknown name "{loc[-1]}"{at}: Cannot find field.'
        )
    if not loc:
        return invalid("Invalid JSON payload received. Expected an object at the top level.")
    got = json.dumps(err.get("input"), ensure_ascii=False, default=str)
    if len(got) > 60:
        got = got[:57] + "..."
    return invalid(f"Invalid value at '{_where(loc)}': {err['msg']}. Got {got}.")
