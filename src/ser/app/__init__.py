"""The front doors: the command line and the demo app."""
