"""Shared Context Server: the shared blackboard for teams of AI agents, served over MCP."""

__all__ = ["__version__"]

__version__ = "0.1.0"
