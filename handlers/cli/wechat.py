"""The official account itself on the command line: install the custom menu of config.yaml."""
import json

import click
from flask import current_app
from flask.cli import with_appcontext

from handlers.wechat import menu
from notices.wechat_api import make_client


@click.command("menu")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Print the menu JSON without calling WeChat.")
def menu_command(dry_run):
    """Install the custom menu defined in config.yaml."""
    config = current_app.config["SANXIANG"]
    try:
        definition = menu.menu_definition(config)
    except menu.MenuError as exc:
        raise click.ClickException(str(exc))
    if dry_run:
        click.echo(json.dumps(definition, ensure_ascii=False, indent=2))
        return
    make_client(config).menu.create(definition)
    click.echo("菜单已提交微信。")
