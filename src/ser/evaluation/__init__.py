"""Stage 6, evaluation: scores, baselines, robustness, other corpora and the typed results in metrics.json."""
