"""``python -m reports diff OLD.json NEW.json``: the same as ``bsk-conformance``."""

import sys

from .cli import main

sys.exit(main())
