"""Makes plain `pytest` in a checkout run the harness.

Installed (`pip install -e .`), the plugin arrives through its `pytest11`
entry point and this file adds nothing; in a bare checkout (or with plugin
autoloading disabled) it loads the same module, so the options are defined
once either way.
"""

import sys

if "bsk_conformance.harness.plugin" not in sys.modules:
    pytest_plugins = ["bsk_conformance.harness.plugin"]
