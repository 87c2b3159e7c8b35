"""What every command-line module needs: the configured database, and refusals said the same way."""
import sys

import click

import settings
from models import db


def open_configured_db():
    """Configuration, with the database opened, its tables created and seeded when empty."""
    from bot import init_database  # bot registers these commands; importing it here avoids a cycle

    config = settings.load_config()
    init_database(config)
    db.connect(reuse_if_open=True)
    return config


def exit_import_refused(refused):
    """Report every bad row of a refused Excel import on stderr, then exit 1 (nothing was written)."""
    click.echo("导入未执行，以下行有问题，请修改后重新导入：", err=True)
    for error in refused.errors:
        click.echo(f"  {error}", err=True)
    sys.exit(1)
