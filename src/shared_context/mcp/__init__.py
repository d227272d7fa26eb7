"""The MCP transport: tools, resources and prompts, thin adapters over services."""
