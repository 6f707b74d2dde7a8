"""Policies: per-attribute thresholds that turn scores into a ``Decision`` with reasons."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from civility import attributes as attrs
from civility.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # the policy needs no model: importing it must not load scikit-learn
    from civility.scorer import Scores

Action = Literal["approve", "hold", "reject"]
ACTIONS: tuple[Action, ...] = ("approve", "hold", "reject")
# How strict each action is: the one order of actions (policy, summaries, queue).
RANK: dict[str, int] = {a: i for i, a in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Reason:
    """One threshold a comment crossed."""

    attribute: str
    score: float
    threshold: float
    action: Action


@dataclass(frozen=True)
class Decision:
    """What to do with a comment, and every threshold that led there (strongest first); a
    comment held without scores says why in ``note`` (``language es not supported``)."""

    action: Action
    reasons: tuple[Reason, ...] = ()
    note: str | None = None

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(r.attribute for r in self.reasons)

    def as_dict(self, ndigits: int | None = None) -> dict[str, Any]:
        """The plain-data form every door writes: ``action``, ``reasons`` (scores rounded to
        ``ndigits`` when given) and ``note`` when there is one."""
        out: dict[str, Any] = {
            "action": self.action,
            "reasons": [
                {
                    "attribute": r.attribute,
                    "score": r.score if ndigits is None else round(r.score, ndigits),
                    "threshold": r.threshold,
                    "action": r.action,
                }
                for r in self.reasons
            ],
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Threshold:
    hold: float | None = None
    reject: float | None = None


@dataclass(frozen=True)
class Policy:
    """Thresholds per attribute; attributes without one never affect the decision."""

    name: str
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Policy:
        text = (resources.files("civility") / "default_policy.toml").read_text(encoding="utf-8")
        return cls.from_toml(text, source="default policy")

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"Policy file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Policy file {path} is unreadable: {exc}") from exc
        return cls.from_toml(text, source=str(path))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "policy") -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{source} is not valid TOML: {exc}") from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, source: str = "policy") -> Policy:
        raw = data.get("thresholds", {})
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{source}: 'thresholds' must be a table of attributes.")
        thresholds: dict[str, Threshold] = {}
        for key, spec in raw.items():
            name = attrs.get(str(key)).name
            if not isinstance(spec, Mapping):
                raise InvalidInput(
                    f"{source}: thresholds.{key} must be a table with 'hold' and/or 'reject'."
                )
            unknown = set(spec) - {"hold", "reject"}
            if unknown:
                raise InvalidInput(
                    f"{source}: thresholds.{key} has unknown keys {sorted(unknown)}; allowed: hold, reject."
                )
            values: dict[str, float] = {}
            for k, v in spec.items():
                if (
                    isinstance(v, bool)
                    or not isinstance(v, int | float)
                    or not 0.0 <= float(v) <= 1.0
                ):
                    raise InvalidInput(
                        f"{source}: thresholds.{key}.{k} must be a number in [0, 1]. Got {v!r}."
                    )
                values[k] = float(v)
            if "hold" in values and "reject" in values and values["hold"] > values["reject"]:
                raise InvalidInput(f"{source}: thresholds.{key}: 'hold' must not exceed 'reject'.")
            thresholds[name] = Threshold(values.get("hold"), values.get("reject"))
        return cls(name=str(data.get("name", source)), thresholds=thresholds)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "thresholds": {
                a: {k: v for k, v in (("hold", t.hold), ("reject", t.reject)) if v is not None}
                for a, t in self.thresholds.items()
            },
        }

    def decide(self, scores: Scores | Mapping[str, float]) -> Decision:
        """The strictest action any attribute calls for, with every crossed threshold."""
        values = scores if isinstance(scores, Mapping) else scores.values
        reasons: list[Reason] = []
        for name, t in self.thresholds.items():
            score = values.get(name)
            if score is None:
                continue
            if t.reject is not None and score >= t.reject:
                reasons.append(Reason(name, score, t.reject, "reject"))
            elif t.hold is not None and score >= t.hold:
                reasons.append(Reason(name, score, t.hold, "hold"))
        reasons.sort(key=lambda r: (-RANK[r.action], -r.score, r.attribute))
        action: Action = reasons[0].action if reasons else "approve"
        return Decision(action, tuple(reasons))
