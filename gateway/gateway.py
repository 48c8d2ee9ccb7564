"""The gateway is the assembly started in `Mode.serve()` (gateway/assembly.py); the ASGI app
and the start-up summary know it by this name."""

from .assembly import Assembly as Gateway

__all__ = ["Gateway"]
