"""Screenshot a matrix page in headless Chromium (the picture in docs/, and a look while developing).

    python tests/reports/matrix_screenshot.py matrix.html out.png [--width 1440] [--height 1000]

It reuses the browser tests' DevTools client (cdp.py) and prints any console
error the page produced, exiting 1 if there was one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cdp import Browser  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--filter", choices=("all", "differ", "attention"), default="all")
    args = parser.parse_args()
    with Browser(width=args.width, height=args.height) as browser:
        browser.open_page(args.page.resolve().as_uri())
        if args.filter != "all":
            browser.evaluate(f"document.getElementById('r-{args.filter}').checked = true")
        browser.screenshot(args.output)
        errors = browser.console_errors()
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
