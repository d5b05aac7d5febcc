"""Stage 5, training: the plan, fitting with its cache, the selection rules, shipping, and training on your own data."""
