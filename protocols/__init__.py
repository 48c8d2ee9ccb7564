"""MCP and A2A: wire <-> runtime translation on the official SDKs. No business logic here."""
