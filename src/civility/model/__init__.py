"""The classifier and its artifact: features, linear heads, calibration, save/load."""

from civility.model.artifact import (
    ARTIFACT_FORMAT,
    ArtifactIdentity,
    artifact_identity,
    default_model_dir,
    load_model,
    save_model,
    write_npz,
)
from civility.model.linear import LinearModel, logit, sigmoid

__all__ = [
    "ARTIFACT_FORMAT",
    "ArtifactIdentity",
    "LinearModel",
    "artifact_identity",
    "default_model_dir",
    "load_model",
    "logit",
    "save_model",
    "sigmoid",
    "write_npz",
]
