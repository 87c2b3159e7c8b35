"""The command line: one click command or group per area, each run inside the app (bot.py's FlaskGroup
calls the app factory), all registered on bot.py's one group."""
from handlers.cli import (answers, badges, cases, chat, complaints, disclosure, draws, ledger, notices, ops, outbox,
                          publication, review, server, staff, wechat, witness)

COMMANDS = [
    server.serve_command, server.init_db_command, server.migrate_command,  # running the service
    disclosure.import_items_command, disclosure.export_items_command,  # 事前公开: the item list in Excel
    disclosure.lists_group,  # 事前公开: 合法性审核 of the lists, updates from data/bureau.yaml
    wechat.menu_command, chat.chat_command,  # the official account: menu, a terminal WeChat
    staff.staff_group,  # 工作人员 and their roles
    badges.badge_command, badges.officer_group, badges.import_officers_command,  # 亮证 and officers
    badges.export_officers_command, badges.scans_command,
    complaints.complaints,  # 投诉举报
    cases.case_group, ledger.verify_command, ledger.ledger_group,  # 全过程记录
    witness.witness_group,  # 监督机关的见证 (cosigned checkpoints, run on the justice bureau's machine)
    draws.draw_group,  # 双随机、一公开
    ops.clock_command, ops.scheduler_command, ops.backup_command, ops.restore_command,  # the clock, backups
    review.review_group,  # 重大执法决定法制审核
    answers.unanswered_command, answers.answers_group,  # 公众问答: the unanswered, the FAQ and synonyms
    outbox.outbox_group,  # 消息发送: every message sent through WeChat
    notices.jobs_command, notices.annual_report_command,  # the clock's jobs; 统计年报
    publication.mask_command, publication.due_date_command, publication.publication_group,  # 事后公开
]
