"""``python -m themescope``: the same as the ``themescope`` command."""

from themescope._cli import main

main()
