"""Stage 7, reporting: the notebook runner, plots, HTML pages, the index page and the model card."""
