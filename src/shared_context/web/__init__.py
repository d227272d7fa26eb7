"""HTTP endpoints beside /mcp: health, metrics, dashboard."""
