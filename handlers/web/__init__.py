"""The web channel: public pages and APIs, one blueprint per area, registered by `install(app)`."""
from handlers.web import (badges, complaints, disclosure, draws, guard, health, layout, ledger, open311, publication,
                          reports, review)


def install(app):
    guard.install(app)  # client address, host names, CSRF, limits on guessing
    app.register_blueprint(layout.bp)  # shared by every page: bureau name, filters, error pages
    app.register_blueprint(disclosure.bp)  # 事前公开: /, /items, /officers, /flows, /remedy …
    app.register_blueprint(badges.bp)  # 亮证: /v/<token>, /staff/badges
    app.register_blueprint(complaints.bp)  # 投诉举报: /complaints/…
    app.register_blueprint(open311.bp)  # 投诉举报 for other systems: Open311 /open311/v2/…
    app.register_blueprint(ledger.bp)  # 全过程记录: /ledger/ heads feed, public key, proofs
    app.register_blueprint(draws.bp)  # 双随机、一公开: /draws/ plans, commitments, results, checker
    app.register_blueprint(health.bp)  # operations: /healthz for the monitor (deploy/)
    app.register_blueprint(review.bp)  # 法制审核: /review catalogue and flowchart
    app.register_blueprint(reports.bp)  # 统计年报 /reports/annual/<year>, 公告 /announcements
    app.register_blueprint(publication.bp)  # 事后公开: /disclosures/ list, detail, feed, JSON, stats
