"""``python -m runbook_lib``: see :mod:`runbook_lib.cli`."""

from __future__ import annotations

import sys

from runbook_lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
