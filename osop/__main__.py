"""``python -m osop`` — the same as the ``osop`` command."""

from osop.cli.main import main

main()
