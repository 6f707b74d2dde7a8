"""``civility feedback import``: a site's decisions made elsewhere, read from CSV or JSONL
into labelled examples for its adapter.

Each row has a ``text`` and one label, in any of three forms:

* ``toxic``: 0/1 or true/false (TOXICITY);
* ``decision``: approve (TOXICITY 0) or reject (TOXICITY 1);
* ``attribute`` and ``score``: the attribute (e.g. INSULT) and a score in [0, 1], at least 0.5
  meaning it applies.

Optional ``id`` (the example's key: a re-import of the same id replaces its label; without
one, a hash of the text) and ``source`` (who labelled it; default ``import:FILENAME``). The
whole file is checked before anything is recorded: a bad row is one error naming its line.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civility import attributes as attrs
from civility.errors import InvalidInput, UnknownAttribute
from civility.ingest import require_file
from civility.store._adapters import HasStore, LabelledText, record_examples, text_key
from civility.store._store import Store

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}
_DECISIONS = {"approve": 0, "reject": 1}
_CSV = {".csv"}
_JSONL = {".jsonl", ".ndjson"}


@dataclass(frozen=True)
class FeedbackImport:
    """What an import recorded: rows read, examples recorded, and per attribute (labels,
    positives)."""

    site: str
    rows: int
    recorded: int
    attributes: dict[str, tuple[int, int]] = field(default_factory=dict)


def _rows(path: Path) -> Iterator[tuple[int, Mapping[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in _CSV:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "text" not in reader.fieldnames:
                raise InvalidInput(f"{path.name}: the CSV has no 'text' column.")
            for row in reader:
                if None in row:
                    raise InvalidInput(
                        f"{path.name}, line {reader.line_num}: more fields than the header has."
                    )
                yield reader.line_num, row
        return
    if suffix in _JSONL:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(
                        f"{path.name}, line {number}: not valid JSON ({exc.msg})."
                    ) from None
                if not isinstance(row, dict):
                    raise InvalidInput(f"{path.name}, line {number}: not a JSON object.")
                yield number, row
        return
    raise InvalidInput(
        f"{path.name}: a feedback file must be CSV (.csv) or JSONL (.jsonl, .ndjson)."
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _label(row: Mapping[str, Any], where: str) -> tuple[str, int]:
    """(attribute, label) of one row."""
    attribute = _text(row.get("attribute"))
    if attribute:
        try:
            name = attrs.get(attribute).name
        except UnknownAttribute:
            raise InvalidInput(f"{where}: unknown attribute {attribute!r}.") from None
        raw = row.get("score")
        score = float("nan")
        if raw is not None and not isinstance(raw, bool) and _text(raw):
            with contextlib.suppress(TypeError, ValueError):
                score = float(raw)
        if not 0.0 <= score <= 1.0:
            raise InvalidInput(f"{where}: 'score' must be a number from 0 to 1. Got {raw!r}.")
        return name, int(score >= 0.5)
    toxic = row.get("toxic")
    if toxic is not None and _text(toxic):
        value = _text(toxic).lower()
        if isinstance(toxic, bool) or value in _TRUE | _FALSE:
            return "TOXICITY", int(toxic is True or value in _TRUE)
        raise InvalidInput(f"{where}: 'toxic' must be 0, 1, true or false. Got {toxic!r}.")
    decision = _text(row.get("decision")).lower()
    if decision:
        if decision not in _DECISIONS:
            raise InvalidInput(
                f"{where}: 'decision' must be approve or reject. Got {row.get('decision')!r}."
            )
        return "TOXICITY", _DECISIONS[decision]
    raise InvalidInput(
        f"{where}: no label: give 'toxic' (0/1), 'decision' (approve/reject), "
        "or 'attribute' and 'score'."
    )


def read_feedback(path: Path) -> list[LabelledText]:
    """The labelled examples of a feedback file (see the module); ``InvalidInput`` naming the
    line of the first bad row."""
    require_file(path)
    default_source = f"import:{path.name}"[:200]
    out: list[LabelledText] = []
    try:
        for number, row in _rows(path):
            where = f"{path.name}, line {number}"
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput(f"{where}: 'text' is missing or empty.")
            attribute, label = _label(row, where)
            given = _text(row.get("id"))
            if len(given) > 190:
                raise InvalidInput(f"{where}: 'id' is longer than 190 characters.")
            source = _text(row.get("source")) or default_source
            if len(source) > 200:
                raise InvalidInput(f"{where}: 'source' is longer than 200 characters.")
            key = f"id:{given}" if given else text_key(text)
            out.append(LabelledText(key, text, attribute, label, "import", source))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name}: not UTF-8 text ({exc.reason}).") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}: not a readable CSV ({exc}).") from None
    if not out:
        raise InvalidInput(f"{path.name}: no rows.")
    return out


def import_feedback(db: Store | HasStore, path: Path, site: str) -> FeedbackImport:
    """Read ``path`` (all of it, checked) and record its examples for ``site``."""
    examples = read_feedback(path)
    recorded = record_examples(db, site, examples)
    latest: dict[tuple[str, str], int] = {}
    for e in examples:
        latest[(e.key, attrs.get(e.attribute).name)] = e.label
    labels: Counter[str] = Counter()
    positives: Counter[str] = Counter()
    for (_, attribute), label in latest.items():
        labels[attribute] += 1
        positives[attribute] += label
    per_attribute = {a: (labels[a], positives[a]) for a in sorted(labels)}
    return FeedbackImport(site, len(examples), recorded, per_attribute)
