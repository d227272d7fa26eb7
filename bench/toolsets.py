"""Size of tools/list per tool profile (SCS_TOOLSETS): what every agent pays in context on
every turn before doing anything.

The server is built in this process and listed through FastMCP's in-memory client; the size
is the JSON of the tools/list result's ``tools`` array as sent on the wire (names,
descriptions, input and output schemas, annotations). Tokens are approximated as bytes / 4
(typical for English text and JSON with common tokenizers; an estimate, not a count).

    uv run python -m bench.toolsets

Prints a table and writes bench/results/toolsets.json.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from fastmcp import Client
from pydantic import SecretStr

from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.mcp.server import build_mcp
from shared_context.mcp.toolsets import TOOLSETS

PROFILES = ["", *TOOLSETS, "core,search", "core,memory", "core,search,memory,coordination"]
KEY = "bench-agent-key-0123456789abcdef"


async def measure(data_dir: Path, profile: str) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        api_key=SecretStr(KEY),
        jwt_secret=SecretStr("bench-jwt-secret-0123456789abcdef0123456789"),
        toolsets=profile,
    )
    async with open_services(settings) as services, Client(build_mcp(services)) as client:
        result = await client.list_tools_mcp()
    wire = json.dumps(
        [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in result.tools],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return {
        "profile": profile or "(all)",
        "tools": len(result.tools),
        "bytes": len(wire),
        "approx_tokens": round(len(wire) / 4),
    }


async def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, profile in enumerate(PROFILES):
            rows.append(await measure(Path(tmp) / str(n), profile))
    print(f"{'profile':<34} {'tools':>5} {'bytes':>8} {'~tokens':>8}")
    for row in rows:
        print(f"{row['profile']:<34} {row['tools']:>5} {row['bytes']:>8} {row['approx_tokens']:>8}")
    out = Path(__file__).parent / "results" / "toolsets.json"
    out.write_text(json.dumps({"tokens_per_byte": 0.25, "profiles": rows}, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
