"""Speech emotion recognition on RAVDESS: data, features, model, evaluation, demo."""

__version__ = "0.1.0"
