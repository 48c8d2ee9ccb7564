"""A2A on `a2a-sdk`: catalog agents served as A2A agents (cards, tasks, streaming), with the SDK
owning JSON-RPC, HTTP+JSON and the task life cycle."""
