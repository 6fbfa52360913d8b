"""``python -m analysis indices RESPONSES.csv …`` (see :mod:`analysis.cli`)."""

from .cli import main

raise SystemExit(main())
