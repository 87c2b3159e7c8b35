"""自定义菜单 — the custom menu from config.yaml, checked against WeChat's limits before install.

https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
"""
from handlers.wechat.router import router

MAX_TOP_BUTTONS = 3  # WeChat: at most 3 top-level buttons …
MAX_SUB_BUTTONS = 5  # … with at most 5 sub-buttons each (DOMAIN.md §7)


class MenuError(ValueError):
    pass


def menu_definition(config):
    """The JSON body for menu/create, with {public_base_url} filled in; raises MenuError if invalid."""
    base = config["server"]["public_base_url"]
    buttons = config["menu"]
    if not 1 <= len(buttons) <= MAX_TOP_BUTTONS:
        raise MenuError(f"菜单一级按钮应为1至{MAX_TOP_BUTTONS}个，现有{len(buttons)}个")
    return {"button": [_button(b, base) for b in buttons]}


def _button(button, base):
    result = {"name": button["name"]}
    subs = button.get("sub_button")
    if subs:
        if len(subs) > MAX_SUB_BUTTONS:
            raise MenuError(f"菜单“{button['name']}”的二级按钮超过{MAX_SUB_BUTTONS}个")
        result["sub_button"] = [_button(s, base) for s in subs]
        return result
    result["type"] = button["type"]
    if button["type"] == "click":
        if button["key"] not in router.clicks:
            raise MenuError(f"菜单“{button['name']}”的键 {button['key']} 没有对应的回复")
        result["key"] = button["key"]
    elif button["type"] == "view":
        result["url"] = button["url"].format(public_base_url=base)
    return result
