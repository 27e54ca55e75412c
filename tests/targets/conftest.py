"""Target-file tests: pure parsing and planning, no platform. Helpers live in ``targets_support``."""

from __future__ import annotations

import sys
from pathlib import Path

# The suite runs in importlib mode: make the helpers beside this file importable by name.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
