"""sanxiang (三项): the WeChat bot and public pages of a county enforcement body — app and command line.

    python bot.py serve                migrate, seed when empty, then gunicorn on 127.0.0.1:$PORT (make run)
    python bot.py init-db | migrate    prepare or upgrade the database (models/migrations/)
    python bot.py import-items F.xlsx  the 行政执法事项清单 to and from Excel (export-items)
    python bot.py menu | chat [TEXT]   install the custom menu; talk to a running server as WeChat would
    python bot.py staff …              工作人员: who may act, in which role (every area checks it)
    python bot.py badge | officer …    亮证: badge cards, officers, scans, Excel
    python bot.py complaints …         投诉举报: handling, reminders
    python bot.py case … | ledger … | verify   全过程记录: case steps, signed tree heads, the full check
    python bot.py mask | due-date | publication …   事后公开: de-identify, due dates, publish, withdraw
    python bot.py clock | scheduler            the schedule in its own process (reminders, publication, heads)
    python bot.py outbox [retry ID|send]     every message sent through WeChat: pending, sent, failed
    python bot.py jobs | annual-report YEAR  the clock's next and last runs; 统计年报 (page, charts, Excel, PDF)

The commands of each area live in handlers/cli/; this file is the table of contents.
"""
import logging
import time

import click
from flask import Flask, request
from flask.cli import FlaskGroup

import handlers.cli
import handlers.web
import handlers.wechat
import settings
from models.database import open_configured, request_finished, request_started


def create_app(test_config=None):
    """The Flask app: configuration, database per request, the WeChat endpoint, the public pages."""
    config = settings.load_config(overrides=(test_config or {}).get("SANXIANG"))
    settings.apply_timezone(config)
    app = Flask(__name__)
    app.config.update(
        SANXIANG=config,
        CLOCK=time.time,
        MAX_CONTENT_LENGTH=config["wechat"]["max_body_bytes"],
        JSON_AS_ASCII=False,
    )
    app.config.update({k: v for k, v in (test_config or {}).items() if k != "SANXIANG"})
    open_configured(config)

    @app.before_request
    def connect_db():
        # /healthz connects by itself: with the database down it must answer 503 with JSON, not fail here.
        if request.endpoint != "health.healthz":
            request_started()

    @app.teardown_appcontext
    def close_db(exc):
        # Kept open for the worker's next request, as far as that is safe (models/database.py).
        request_finished()

    handlers.wechat.install(app)  # /wechat
    handlers.web.install(app)  # the public pages and APIs
    return app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False, add_version_option=False,
             load_dotenv=False)
def cli():
    """sanxiang 三项: python bot.py COMMAND --help for each command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _command in handlers.cli.COMMANDS:
    cli.add_command(_command)
for _option in cli.params:  # FlaskGroup's --app/--env-file/--debug: this script has one app and no .env
    _option.hidden = True


if __name__ == "__main__":
    cli()
