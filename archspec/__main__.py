"""`python -m archspec`: the command line."""

from .cli import program

program()
