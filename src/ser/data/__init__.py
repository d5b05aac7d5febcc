"""Stage 1, the data: RAVDESS and other corpora on disk, audio loading, speaker splits."""
