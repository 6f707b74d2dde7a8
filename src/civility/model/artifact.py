"""Saving and loading the model artifact: ``model.npz`` (arrays) + ``model.json`` (metadata).

No pickle: arrays load with ``allow_pickle=False``. ``model.json`` records the artifact
format, the model version and the SHA-256 of ``model.npz``, checked on every load.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from civility.errors import ModelError
from civility.model.linear import LinearModel

ARTIFACT_FORMAT = 1
ARRAYS_FILE = "model.npz"
META_FILE = "model.json"


def default_model_dir() -> Path:
    """The artifact shipped inside the package."""
    return Path(str(resources.files("civility") / "models"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model: LinearModel, directory: Path) -> Path:
    """Write ``model`` into ``directory``; return the metadata file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    meta, arrays = model.to_arrays()
    arrays_path = directory / ARRAYS_FILE
    # np.savez_compressed stamps no times into the archive members' contents, but the zip
    # headers carry a date; write through a fixed-date ZipFile so equal models give equal bytes.
    write_npz(arrays_path, arrays)
    meta = {"format": ARTIFACT_FORMAT, **meta, "sha256": _sha256(arrays_path)}
    meta_path = directory / META_FILE
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return meta_path


def write_npz(
    target: Path | BinaryIO, arrays: dict[str, Any] | Any, *, extra: Mapping[str, str] | None = None
) -> None:
    """Arrays as ``.npy`` members of a zip (no pickle; ``np.load`` reads it), each with a fixed
    date so that equal arrays give equal bytes; ``extra`` text members (name: content) first."""
    import io
    import zipfile

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, text in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0)), text)
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


@dataclass(frozen=True)
class ArtifactIdentity:
    """Which artifact: its model version and the SHA-256 of its arrays."""

    version: str
    sha256: str


def _read_meta(meta_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model metadata {meta_path} is unreadable: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"Model metadata {meta_path} is unreadable: not a JSON object.")
    return meta


def artifact_identity(directory: Path | None = None) -> ArtifactIdentity:
    """The version and checksum the artifact in ``directory`` (default: the shipped one)
    records, read from its metadata alone: nothing is loaded or verified (``load_model``
    verifies). A metadata file that is missing, unreadable or lacks either is a ``ModelError``."""
    meta_path = (directory or default_model_dir()) / META_FILE
    meta = _read_meta(meta_path)
    if "version" not in meta or "sha256" not in meta:
        raise ModelError(f"Model metadata {meta_path} records no version or checksum.")
    return ArtifactIdentity(str(meta["version"]), str(meta["sha256"]))


def load_model(directory: Path | None = None) -> LinearModel:
    """Load and verify the artifact in ``directory`` (default: the shipped one)."""
    directory = directory or default_model_dir()
    meta_path = directory / META_FILE
    arrays_path = directory / ARRAYS_FILE
    if not meta_path.is_file() or not arrays_path.is_file():
        raise ModelError(
            f"No model artifact in {directory}: expected {META_FILE} and {ARRAYS_FILE}. "
            "Run 'civility train' to build one."
        )
    meta = _read_meta(meta_path)
    if meta.get("format") != ARTIFACT_FORMAT:
        raise ModelError(
            f"Model artifact format {meta.get('format')!r} is not supported; expected {ARTIFACT_FORMAT}."
        )
    if meta.get("sha256") != _sha256(arrays_path):
        raise ModelError(f"Model arrays {arrays_path} do not match the checksum in {META_FILE}.")
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"Model arrays {arrays_path} are unreadable: {exc}") from exc
    return LinearModel.from_arrays(meta, arrays)
