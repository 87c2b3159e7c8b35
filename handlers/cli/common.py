"""What every command-line module needs: the app's configuration with its database ready, and the
rules' refusals said the same way. Commands run inside the app (bot.py's FlaskGroup calls the app
factory), so they see the configuration the web app sees."""
import sys

import click
from flask import current_app

from models import db
from models.seed import prepare_database


def open_db():
    """The app's configuration, with its database migrated (and seeded when empty) and connected."""
    config = current_app.config["SANXIANG"]
    prepare_database(config)
    db.connect(reuse_if_open=True)
    return config


def refuse(message, code=1):
    """A rule said no: its Chinese message on stderr, exit status `code`, nothing written."""
    click.echo(str(message), err=True)
    sys.exit(code)


def exit_import_refused(refused):
    """Report every bad row of a refused Excel import on stderr, then exit 1 (nothing was written)."""
    click.echo("导入未执行，以下行有问题，请修改后重新导入：", err=True)
    for error in refused.errors:
        click.echo(f"  {error}", err=True)
    sys.exit(1)
