"""Stage 4, inference: a shipped model folder turned into answers for recordings, one or thousands."""
