"""API keys and agent tokens."""
