"""The classifier and its artifact: features, linear heads, calibration, save/load."""

from civility.model.artifact import ARTIFACT_FORMAT, default_model_dir, load_model, save_model
from civility.model.linear import LinearModel

__all__ = ["ARTIFACT_FORMAT", "LinearModel", "default_model_dir", "load_model", "save_model"]
