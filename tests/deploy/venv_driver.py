"""Run one function from an unzipped package, in a virtual environment with nothing installed.

    python venv_driver.py FOLDER EVENT_FILE bytes|dict [MODULE ...]

Run as a script by tests/deploy/test_packaging.py (not collected): ``FOLDER`` (the unzipped zip)
goes first on ``sys.path``, ``index.handler`` is called once with the event as FC passes it
(``bytes``) or as Lambda does (``dict``, parsed JSON), and one JSON line is printed: the answer,
where ``pushfn`` and ``pydantic_core`` were imported from, and where each extra ``MODULE`` (the
function's cloud SDKs) was.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def main(folder: str, event_file: str, shape: str, modules: list[str]) -> None:
    sys.path.insert(0, folder)
    import index

    raw = Path(event_file).read_bytes()
    answer = index.handler(json.loads(raw) if shape == "dict" else raw, None)
    origins = {}
    for name in ["pushfn", "pydantic_core", *modules]:
        module = importlib.import_module(name)
        origins[name] = str(Path(module.__file__).resolve())
    print(json.dumps({"answer": answer, "origins": origins, "prefix": sys.prefix, "path": sys.path}, default=repr))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
