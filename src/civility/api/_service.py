"""What the HTTP door does, free of HTTP: authenticate, analyze, take feedback, score, decide.

Each method takes parsed requests and returns plain dicts (the wire shapes); every refusal is
an ``ApiError`` carrying Google's error body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from civility import attributes as attrs
from civility import language
from civility.adapted import adapter_label
from civility.api._calibration import Calibrations
from civility.api._errors import ApiError, invalid
from civility.api._offsets import Utf16
from civility.api._ratelimit import RateLimiter, SharedRateLimiter
from civility.api._schema import (
    AnalyzeCommentRequest,
    ScoreRequest,
    SuggestCommentScoreRequest,
    TextEntry,
    ThreadRequest,
)
from civility.errors import UnknownAttribute
from civility.moderate import moderate
from civility.policy import Policy
from civility.scorer import MAX_TEXT_BYTES, SUPPORTED_LANGUAGES, Scorer, Scores
from civility.settings import Settings
from civility.store import (
    ApiStorage,
    FeedbackPair,
    LabelledText,
    Retrainer,
    SqlStorage,
    Store,
    site_scorer,
    text_key,
)
from civility.text import Plain, plain, strip_html

log = logging.getLogger("civility.api")

_PROBABILITY = "PROBABILITY"
# How long a worker remembers which site an API key is bound to (keys are bound at creation).
KEY_SITE_SECONDS = 5.0
_SUPPORTED_SCORE_TYPES = {None, "SCORE_TYPE_UNSPECIFIED", _PROBABILITY}


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key's name, or ``anonymous`` when keys are not required; ``site`` is
    the site the key is bound to (``civility keys create NAME --site SITE``), if any."""

    name: str
    site: str | None = None


def _language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-")[0]


def _comment_text(entry: TextEntry | None) -> Plain:
    """The text to score, checked against Perspective's empty and 20 KB rules."""
    sent = entry.text if entry is not None and entry.text is not None else ""
    if not sent.strip():
        raise invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    size = len(sent.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise invalid(
            f"Comment text was too many bytes. Value ({size}) exceeded limit ({MAX_TEXT_BYTES}).",
            "COMMENT_TOO_LONG",
        )
    text = strip_html(sent) if entry is not None and entry.type == "HTML" else plain(sent)
    if not text.text.strip():
        raise invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    return text


def _check_size(text: str, where: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        raise invalid(
            f"Comment text was too many bytes. Value ({size}) exceeded limit ({MAX_TEXT_BYTES})"
            f" at '{where}'.",
            "COMMENT_TOO_LONG",
        )


class Service:
    def __init__(
        self,
        settings: Settings,
        scorer: Scorer,
        policy: Policy,
        storage: ApiStorage,
        store: Store | None = None,
    ) -> None:
        self.settings = settings
        self.scorer = scorer
        self.policy = policy
        self.storage = storage
        # The store that holds the sites' adapters: the API storage's own database (a
        # prefixed test storage has none: every site is then scored by the base model).
        if store is None and isinstance(storage, SqlStorage) and not storage.prefix:
            store = storage.store
        self.store = store
        # Suggestions teach a site's adapter: retrained off the request path once enough
        # arrive (store.maybe_retrain), as the moderator UI does after decisions.
        self.retrainer = Retrainer(store, lambda: scorer, settings) if store is not None else None
        self.calibrations = Calibrations(storage)
        self._key_sites: dict[str, tuple[float, str | None]] = {}
        self._key_sites_lock = threading.Lock()
        # Several worker processes share one database, so they share its buckets too.
        self.limiter: RateLimiter | SharedRateLimiter = (
            SharedRateLimiter(settings.rate_limit_per_minute, storage)
            if settings.workers > 1
            else RateLimiter(settings.rate_limit_per_minute)
        )

    # ---------------------------------------------------------------- keys and quota

    def authenticate(self, key: str | None) -> Caller:
        """Check the key (when given, always; when missing, only if keys are required)."""
        if key:
            name = self.storage.check_key(key)
            if name is None:
                raise ApiError(
                    400,
                    "API key not valid. Please pass a valid API key.",
                    error_type=None,
                    reason="API_KEY_INVALID",
                )
            return Caller(name, self._key_site(name))
        if self.settings.require_key:
            raise ApiError(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
                error_type=None,
                reason="API_KEY_MISSING",
            )
        return Caller("anonymous")

    def _key_site(self, name: str) -> str | None:
        """The site key ``name`` is bound to, remembered for ``KEY_SITE_SECONDS``."""
        now = time.monotonic()
        with self._key_sites_lock:
            hit = self._key_sites.get(name)
        if hit is not None and now - hit[0] < KEY_SITE_SECONDS:
            return hit[1]
        site = self.storage.key_site(name)
        with self._key_sites_lock:
            self._key_sites[name] = (now, site)
        return site

    def scorer_for(self, site: str | None) -> Scorer:
        """The scorer for ``site``: its serving adapter over the base model, or the base model
        itself (no site, no serving adapter yet, or no store). ``site_scorer`` caches the
        adapter and checks which one serves with one indexed query."""
        if not site or self.store is None:
            return self.scorer
        return site_scorer(self.store, self.scorer, site)

    def spend(self, caller: Caller) -> None:
        wait = self.limiter.take(caller.name)
        if wait:
            raise ApiError(
                429,
                f"Quota exceeded: more than {self.settings.rate_limit_per_minute} requests per "
                f"minute for key '{caller.name}'. Retry after {int(wait)} s.",
                error_type=None,
                reason="RATE_LIMIT_EXCEEDED",
                headers={"Retry-After": str(int(wait))},
            )

    # ---------------------------------------------------------------- Perspective

    def _head(self, name: str) -> str | None:
        """The head that answers ``name`` (a ``*_EXPERIMENTAL`` name is answered by its
        production head), ``None`` for an attribute Perspective knows and civility does not
        serve; an unknown name is an error."""
        key = name.strip().upper()
        if key in attrs.UNSERVED:
            return None
        head = attrs.EXPERIMENTAL_ALIASES.get(key) or attrs.get(name).name
        if head not in self.scorer.attributes:
            raise UnknownAttribute(f"Unknown requested attribute: {name}")
        return head

    def _requested(
        self, req: AnalyzeCommentRequest
    ) -> tuple[dict[str, tuple[str, float | None]], list[str]]:
        """The attributes to answer, by the name asked for: (head, threshold); and the names
        asked for that civility does not serve."""
        if not req.requestedAttributes:
            raise invalid("Must request at least one attribute.", "NO_REQUESTED_ATTRIBUTES")
        wanted: dict[str, tuple[str, float | None]] = {}
        unserved: list[str] = []
        for name, params in req.requestedAttributes.items():
            key = name.strip().upper()
            head = self._head(name)
            if head is None:
                unserved.append(key)
                continue
            score_type = params.scoreType if params else None
            threshold = params.scoreThreshold if params else None
            if score_type not in _SUPPORTED_SCORE_TYPES:
                raise invalid(
                    f"Attribute {key} does not support score type {score_type}. "
                    "Supported: PROBABILITY."
                )
            if threshold is not None and not 0.0 <= threshold <= 1.0:
                raise invalid(
                    f"Invalid value at 'requestedAttributes.{name}.scoreThreshold': must be "
                    f"between 0 and 1. Got {threshold}."
                )
            wanted[key] = (head, threshold)
        return wanted, unserved

    def _languages(
        self, requested: Sequence[str] | None, first_attribute: str, text: str
    ) -> tuple[list[str], list[str]]:
        """The languages to score in and the detected ones; a language civility cannot score,
        requested or detected, is refused as Perspective refuses it."""
        detection = language.detect(text)
        if requested:
            unsupported = [c for c in requested if _language(c) not in SUPPORTED_LANGUAGES]
            if unsupported:
                raise _language_not_supported(first_attribute, unsupported)
            return [_language(c) for c in requested], detection.detected
        # Short and mixed texts are read as English (civility.language.read_as).
        if not detection.supported:
            raise _language_not_supported(first_attribute, [detection.language])
        return [detection.language], detection.detected

    def _calibrate(
        self, community: str | None, scores: Scores, scorer: Scorer | None = None
    ) -> dict[str, float]:
        """The community's suggestscore calibration applied to ``scores``; not when a site's
        adapter scored them: the adapter learnt from the same site's labels (suggestscore
        included), and correcting its scores again would count that feedback twice."""
        values = dict(scores.values)
        if scorer is not None and adapter_label(scorer) is not None:
            return values
        if community:
            for attribute, value in values.items():
                correction = self.calibrations.get(community, attribute)
                if correction is not None:
                    values[attribute] = correction(value)
        return values

    def analyze(self, req: AnalyzeCommentRequest, caller: Caller) -> dict[str, Any]:
        """``comments:analyze`` (runs in a worker thread: it scores)."""
        text = _comment_text(req.comment)
        wanted, unserved = self._requested(req)
        first = next(iter(wanted)) if wanted else unserved[0]
        languages, detected = self._languages(req.languages, first, text.text)
        if unserved:
            # Perspective fails the whole request when one attribute is not served.
            raise _language_not_supported(unserved[0], list(req.languages or languages))
        spans = bool(req.spanAnnotations)
        heads = list(dict.fromkeys(head for head, _ in wanted.values()))
        scorer = self.scorer_for(req.communityId or caller.site)
        result = scorer.score([text.text], attributes=heads, spans=spans)[0]
        values = self._calibrate(req.communityId, result, scorer)
        sent = req.comment.text if req.comment is not None and req.comment.text else ""
        to16 = Utf16(sent)
        whole = (0, to16(len(sent)))
        out: dict[str, Any] = {}
        for attribute, (head, threshold) in wanted.items():
            value = values[head]
            if threshold is not None and value < threshold:
                continue
            span_list = []
            for s in result.spans.get(head, ()) if spans else ():
                b, e = text.to_original(s.begin, s.end)
                span_list.append(
                    {
                        "begin": to16(b),
                        "end": to16(e),
                        "score": {"value": s.score, "type": _PROBABILITY},
                    }
                )
            if not span_list:
                span_list = [
                    {
                        "begin": whole[0],
                        "end": whole[1],
                        "score": {"value": value, "type": _PROBABILITY},
                    }
                ]
            out[attribute] = {
                "spanScores": span_list,
                "summaryScore": {"value": value, "type": _PROBABILITY},
            }
        response: dict[str, Any] = {}
        if out:
            response["attributeScores"] = out
        response["languages"] = languages
        response["detectedLanguages"] = detected
        if req.clientToken is not None:
            response["clientToken"] = req.clientToken
        label = adapter_label(scorer)
        if label is not None:
            # civility's own field beside Perspective's: only when a site's adapter scored.
            response["civilityAdapter"] = label
        self._keep(req.doNotStore, caller, req.communityId, sent, values)
        return response

    def _keep(
        self,
        do_not_store: bool | None,
        caller: Caller,
        community: str | None,
        text: str,
        values: dict[str, float],
    ) -> None:
        if do_not_store:
            return
        if self.settings.log_comment_text:
            log.info("comment key=%s community=%s text=%r", caller.name, community or "", text)
        if self.settings.store_comments:
            self.storage.save_comment(caller.name, community or "", text, values)

    def suggest(self, req: SuggestCommentScoreRequest, caller: Caller) -> dict[str, Any]:
        """``comments:suggestscore``: pairs of (model score, suggested score) for calibration."""
        text = _comment_text(req.comment)
        if not req.attributeScores:
            raise invalid(
                "Must suggest a score for at least one attribute.", "NO_REQUESTED_ATTRIBUTES"
            )
        suggested: dict[str, float] = {}
        unserved: list[str] = []
        for name, scores in req.attributeScores.items():
            head = self._head(name)
            if head is None:
                unserved.append(name.strip().upper())
                continue
            attribute = head
            value = scores.summaryScore.value if scores.summaryScore else None
            if value is None or not 0.0 <= value <= 1.0:
                raise invalid(
                    f"Invalid value at 'attributeScores.{name}.summaryScore.value': "
                    f"a probability between 0 and 1 is required. Got {value}."
                )
            suggested[attribute] = value
        first = next(iter(suggested)) if suggested else unserved[0]
        languages, detected = self._languages(req.languages, first, text.text)
        if unserved:
            raise _language_not_supported(unserved[0], list(req.languages or languages))
        model = self.scorer.score([text.text], attributes=list(suggested))[0]
        community = req.communityId or ""
        self.storage.add_feedback(
            community, {a: FeedbackPair(model.values[a], v) for a, v in suggested.items()}
        )
        self.calibrations.forget(community)
        self._teach(community, caller, text.text, suggested)
        response: dict[str, Any] = {
            "detectedLanguages": detected,
            "requestedLanguages": list(req.languages or []),
        }
        if req.clientToken is not None:
            response["clientToken"] = req.clientToken
        return response

    def _teach(
        self, community: str, caller: Caller, text: str, suggested: dict[str, float]
    ) -> None:
        """A suggested score is a label for the site's adapter: the community is the site (else
        the site the caller's key is bound to; neither: no site, nothing to teach); a score of
        at least 0.5 says the attribute applies. The example's key is a hash of the text, its
        source the caller's key (so no one key's labels can outweigh the rest, see
        civility.adapt's max_source_share)."""
        site = community or caller.site
        if not site:
            return
        key = text_key(text)
        source = "anonymous" if caller.name == "anonymous" else f"key:{caller.name}"
        self.storage.record_examples(
            site,
            [
                LabelledText(key, text, attribute, int(value >= 0.5), "suggest", source)
                for attribute, value in suggested.items()
            ],
        )
        if self.retrainer is not None:
            self.retrainer.request(site)

    # ---------------------------------------------------------------- native

    def _policy(self, raw: dict[str, Any] | None) -> Policy:
        return self.policy if raw is None else Policy.from_dict(raw, source="request policy")

    def _native(
        self,
        texts: Sequence[str],
        attributes: list[str] | None,
        spans: bool,
        community: str | None,
        policy: Policy,
        scorer: Scorer,
    ) -> list[dict[str, Any]]:
        wanted = list(attrs.normalize_names(attributes)) if attributes else list(scorer.attributes)
        # A comment the flow holds unscored (no text, a language the model cannot read) is
        # scored anyway: the response's shape does not change, but its scores decide nothing.
        verdicts = moderate(
            texts,
            scorer,
            policy,
            spans=spans,
            attributes=wanted,
            calibrate=lambda s: replace(s, values=self._calibrate(community, s, scorer)),
            score_held=True,
        )
        out = []
        for text, verdict in zip(texts, verdicts, strict=True):
            result = verdict.scores
            assert result is not None
            values = dict(result.values)
            item: dict[str, Any] = {"scores": values, "decision": verdict.decision.as_dict()}
            if spans:
                to16 = Utf16(text)
                item["spans"] = {
                    a: [
                        {"begin": to16(s.begin), "end": to16(s.end), "score": s.score}
                        for s in result.spans.get(a, ())
                    ]
                    for a in wanted
                }
            out.append(item)
        return out

    def _site(self, site: str | None, community: str | None, caller: Caller | None) -> Scorer:
        """The native routes' scorer: the body's ``site``, else its ``communityId``, else the
        site the caller's key is bound to."""
        return self.scorer_for(site or community or (caller.site if caller else None))

    def score(self, req: ScoreRequest, caller: Caller | None = None) -> dict[str, Any]:
        for i, c in enumerate(req.comments):
            _check_size(c.text, f"comments[{i}].text")
        policy = self._policy(req.policy)
        scorer = self._site(req.site, req.communityId, caller)
        items = self._native(
            [c.text for c in req.comments],
            req.attributes,
            req.spans,
            req.communityId,
            policy,
            scorer,
        )
        for c, item in zip(req.comments, items, strict=True):
            item["id"] = c.id
        return {
            "model_version": scorer.version,
            "adapter": adapter_label(scorer),
            "policy": policy.name,
            "results": items,
        }

    def thread(self, req: ThreadRequest, caller: Caller | None = None) -> dict[str, Any]:
        from civility.thread import Article, Comment, Thread

        for i, c in enumerate(req.comments):
            _check_size(c.text, f"comments[{i}].text")
        ids = [c.id for c in req.comments]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise invalid(f"Comment ids must be unique. Got {dup!r} more than once.")
        article_obj: Article | None = None
        if isinstance(req.article, str):
            paragraphs = tuple(p.strip() for p in req.article.split("\n\n") if p.strip())
            article_obj = Article("", paragraphs) if paragraphs else None
        elif req.article is not None:
            article_obj = Article(req.article.title, tuple(req.article.paragraphs), req.article.url)
        thread = Thread(
            article_obj,
            tuple(Comment(c.id, c.author, c.text, c.parent_id, c.created_at) for c in req.comments),
        )
        policy = self._policy(req.policy)
        scorer = self._site(req.site, req.communityId, caller)
        items = self._native(
            [c.text for c in thread.comments],
            req.attributes,
            req.spans,
            req.communityId,
            policy,
            scorer,
        )
        known = {c.id: c for c in thread.comments}
        depth: dict[str, int] = {}
        for comment in thread.comments:
            parent = comment.parent_id
            depth[comment.id] = depth.get(parent, 0) + 1 if parent in known else 0
        counts = {"approve": 0, "hold": 0, "reject": 0}
        for comment, item in zip(thread.comments, items, strict=True):
            counts[item["decision"]["action"]] += 1
            item.update(
                {
                    "id": comment.id,
                    "author": comment.author,
                    "parent_id": comment.parent_id,
                    "depth": depth[comment.id],
                }
            )
        peaks: dict[str, float] = {}
        for item in items:
            for a, v in item["scores"].items():
                peaks[a] = max(peaks.get(a, 0.0), v)
        return {
            "model_version": scorer.version,
            "adapter": adapter_label(scorer),
            "policy": policy.name,
            "article": None
            if thread.article is None
            else {
                "title": thread.article.title,
                "paragraphs": len(thread.article.paragraphs),
                "url": thread.article.url,
            },
            "summary": {"comments": len(items), "actions": counts, "max_scores": peaks},
            "comments": items,
        }


def _language_not_supported(attribute: str, languages: Sequence[str]) -> ApiError:
    return invalid(
        f"Attribute {attribute} does not support request languages: {','.join(languages)}",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
