"""Training and evaluation: corpus loaders for ../shared/data, fitting, metrics, model card."""
