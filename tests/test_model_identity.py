"""``artifact_identity``: which artifact a directory holds, from its metadata alone (batch jobs
record it in their manifest so that a resumed job never mixes two models' parts)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from civility.errors import ModelError
from civility.model import artifact_identity, default_model_dir
from civility.scorer import Scorer


def test_the_shipped_artifact_is_identified_without_loading_it() -> None:
    identity = artifact_identity()
    assert identity.version == Scorer().load().version
    arrays = (default_model_dir() / "model.npz").read_bytes()
    assert identity.sha256 == hashlib.sha256(arrays).hexdigest()


def test_a_directory_without_a_usable_metadata_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=re.escape(f"Model metadata {tmp_path / 'model.json'} is unreadable")
    ):
        artifact_identity(tmp_path)
    (tmp_path / "model.json").write_text('{"version": "x"}', encoding="utf-8")
    with pytest.raises(ModelError, match=re.escape("records no version or checksum.")):
        artifact_identity(tmp_path)
