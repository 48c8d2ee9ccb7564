"""The sandbox's mechanics: the runtime's `Sandbox` policy says what is allowed, these modules
enforce it (paths resolved inside the roots, processes spawned with limits, hosts checked before
a connection)."""
