"""The benchmark suite behind ``scs bench``: a real server process driven over Streamable HTTP
by the official MCP SDK client. Figures are measured, printed as a table and saved as JSON."""
