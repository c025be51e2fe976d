"""`python -m archspec`: the command line."""

from .cli import main

raise SystemExit(main())
