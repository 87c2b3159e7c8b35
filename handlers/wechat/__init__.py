"""The WeChat channel: `install(app)` registers the endpoint; importing this package registers every
conversation (each area module decorates its handlers on the one router, `#` staff commands included)."""
from handlers.wechat import paging  # noqa: F401  下一页
from handlers.wechat import disclosure  # noqa: F401  公众查询: the published lists, 帮助
from handlers.wechat import badges  # noqa: F401  亮证: 核验 and officers' QR scenes
from handlers.wechat import complaints  # noqa: F401  投诉举报: dialogue, 查询, 评价, # staff commands
from handlers.wechat import cases  # noqa: F401  全过程记录: #立案 #案件 #记录 #更正
from handlers.wechat import review  # noqa: F401  法制审核: #审核 #审核情况
from handlers.wechat import draws  # noqa: F401  双随机、一公开: 抽查结果
from handlers.wechat import announcements  # noqa: F401  公告: #公告 #确认公告 #撤回公告
from handlers.wechat import subscriptions  # noqa: F401  订阅公示 / 取消订阅
from handlers.wechat import publication  # noqa: F401  事后公开: 处罚结果, 公示 网吧
from handlers.wechat import staff  # noqa: F401  the `#` gate and #帮助
from handlers.wechat import answers  # noqa: F401  公众问答: free questions, intents, the unanswered
from handlers.wechat.endpoint import install
from handlers.wechat.router import Context, router

__all__ = ["Context", "install", "router"]
