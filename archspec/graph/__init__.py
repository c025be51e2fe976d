"""Expansion: a validated `Spec` to a flat DAG of layer nodes with checked shapes.

`model` holds what expansion hands out (`Graph`, `Node`, `Group`, `Env`); `expand` walks the
statements (one rule per statement kind); `estimate` bounds the size first; `hints` phrases
faulty arguments.
"""

from .expand import build_graph
from .model import BLOCK_GROUP, INPUT, Env, Graph, Group, Limits, Node, Role

__all__ = ["BLOCK_GROUP", "INPUT", "Env", "Graph", "Group", "Limits", "Node", "Role", "build_graph"]
