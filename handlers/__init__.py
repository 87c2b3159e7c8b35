"""What the bot answers and serves, by channel, then by area (named like models/):

- handlers/wechat/  the /wechat endpoint, its router, paging, and one module per area of conversation;
- handlers/web/     the public pages, complaint form, Open311, case-file and badge pages;
- handlers/cli/     `python bot.py …`, one click group per area.
"""
