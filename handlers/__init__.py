"""What the bot answers. Importing this package registers every conversation with the router."""
from handlers import conversation, public  # noqa: F401  (registration by import)
from handlers.router import Context, router

__all__ = ["Context", "router"]
