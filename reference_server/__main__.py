"""``python -m reference_server``: the same as ``bsk-reference-server``."""

from .cli import main

raise SystemExit(main())
