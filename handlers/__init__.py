"""What the bot answers. Importing this package registers every conversation with the router."""
from handlers import conversation, public  # noqa: F401  (registration by import)
from handlers import verify  # noqa: F401,E402  (亮证: 核验 and officer QR scenes)
from handlers import complaints  # noqa: F401,E402  (投诉举报: dialogue, 查询, staff # commands)
from handlers import case_staff  # noqa: F401,E402  (全过程记录: #案件 #记录 #更正 staff commands)
from handlers.router import Context, router

__all__ = ["Context", "router"]
