"""事后公开 on the command line: check what de-identification does to a text before it is published.

    python bot.py mask FILE | -  [--party 当事人] [--person 姓名 …] [--spans]
"""
import sys

import click

from models.masking import mask

# A decision text is a few pages; more than this is not a decision and is refused rather than read whole.
MAX_MASK_BYTES = 2_000_000


@click.command("mask")
@click.argument("source", type=click.File("rb"))
@click.option("--party", default=None, help="The penalised party (kept); guessed from 当事人：… when left out.")
@click.option("--person", "people", multiple=True, help="A name to reduce to 某某 wherever it appears (repeatable).")
@click.option("--keep", multiple=True, help="A fragment that must stay as written (repeatable).")
@click.option("--spans", is_flag=True, help="Also list what was masked and why (on stderr).")
def mask_command(source, party, people, keep, spans):
    """Print the de-identified text of FILE ('-' reads standard input), as it would be published."""
    raw = source.read(MAX_MASK_BYTES + 1)
    if len(raw) > MAX_MASK_BYTES:
        click.echo("文本过长（超过2MB），请分段检查。", err=True)
        sys.exit(1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # files saved by Chinese Windows editors
        except UnicodeDecodeError:
            click.echo("无法识别文件编码，请另存为UTF-8后再试。", err=True)
            sys.exit(1)
    result = mask(text, party=party, people=people, keep=keep)
    click.echo(result.text, nl=not result.text.endswith("\n"))
    if spans:
        for span in result.spans:
            click.echo(f"{span.reason}\t{span.original}\t→ {span.replacement}", err=True)
        click.echo(f"共隐去{len(result.spans)}处。", err=True)
