"""``python -m mlcompile.runtime ADAPTER ...``: the entry point every compiled step runs.

Each adapter (``kfp``, ``sagemaker``, ``local``) is a module of this package with a
``main(argv) -> int`` that translates its platform's conventions into :func:`invoke` calls.
"""

from __future__ import annotations

import importlib
import re
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or not re.fullmatch(r"[a-z_]+", args[0]):
        print("usage: python -m mlcompile.runtime ADAPTER [ARGS...]", file=sys.stderr)
        return 2
    try:
        adapter = importlib.import_module(f"mlcompile.runtime.{args[0]}")
    except ModuleNotFoundError:
        print(f"mlcompile runtime: no adapter named {args[0]!r}", file=sys.stderr)
        return 2
    code: int = adapter.main(args[1:])
    return code


if __name__ == "__main__":
    sys.exit(main())
