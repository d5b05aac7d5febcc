"""``python -m ser.app.server``: serve the demo app (see :mod:`ser.app.server.server`)."""

from ser.app.server import serve

raise SystemExit(serve())
