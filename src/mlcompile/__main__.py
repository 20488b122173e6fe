"""`python -m mlcompile` is the `mlcompile` command."""

from mlcompile.cli.main import main

main()
