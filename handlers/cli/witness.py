"""监督机关的见证 on the command line — run by the justice bureau on its own machine, with its own key.

    python bot.py witness keygen --key witness.pem --name sfj.naiman.example/witness
    python bot.py witness cosign --log https://…/ledger --log-vkey 'NAME+ID+KEY' --key witness.pem \\
        --name sfj.naiman.example/witness --state witness-state.json [--out cosigned.txt]

`cosign` fetches the log's newest checkpoint (LOG/checkpoint) and, when it has cosigned an earlier one,
the consistency proof (LOG/consistency?first=&second=); it prints the checkpoint with its cosignature
line added, for the bureau to publish with `python bot.py ledger add-cosignature FILE`. A fork or a
rollback is refused: exit status 2, an alarm on stderr and in STATE.alarms.log. Nothing here reads the
bureau's database.
"""
import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import click

from models import checkpoint, witness


def fetch_url(url, timeout=30):
    """The body of `url` (http, https or a local path), as text."""
    if "://" not in url:
        return Path(url).read_text(encoding="utf-8")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise witness.WitnessError(f"不支持的地址：{url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 — scheme checked above
        return response.read().decode("utf-8")


@click.group("witness")
def witness_group():
    """监督机关: cosign the bureau's checkpoints after checking that the log only grew."""


@witness_group.command("keygen")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False), help="Where to write the private key.")
@click.option("--name", required=True, help="The witness's name, e.g. sfj.naiman.example/witness")
def keygen_command(key_path, name):
    """Make the witness's own Ed25519 key; print the verifier key the bureau configures (ledger.witnesses)."""
    try:
        checkpoint.check_name(name)
        key = witness.generate_key(key_path)
    except FileExistsError:
        raise click.ClickException(f"{key_path} 已存在，不覆盖。")
    except checkpoint.NoteError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"见证私钥已写入 {key_path}（请妥善保管，不要交给被监督的单位）。请把下面一行交给执法单位配置到 ledger.witnesses：")
    click.echo(checkpoint.vkey(name, key, checkpoint.COSIGNATURE_V1))


@witness_group.command("cosign")
@click.option("--log", "log_url", required=True, help="The log's base URL, e.g. https://…/ledger")
@click.option("--log-vkey", required=True, help="The bureau's verifier key, from …/ledger/vkey (first line).")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The witness's name (as in keygen).")
@click.option("--state", "state_path", required=True, type=click.Path(dir_okay=False),
              help="This witness's memory of what it cosigned; keep it and back it up.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the cosigned checkpoint here too.")
def cosign_command(log_url, log_vkey, key_path, name, state_path, out):
    """Fetch the newest checkpoint, check it extends the last one cosigned, and cosign it."""
    base = log_url.rstrip("/")

    def fetch_proof(first, second):
        document = json.loads(fetch_url(f"{base}/consistency?first={first}&second={second}"))
        return [bytes.fromhex(h) for h in document["proof"]]

    try:
        note = fetch_url(f"{base}/checkpoint")
        state = witness.load_state(state_path)
        line, entry = witness.cosign(note, log_vkey, state, fetch_proof, name, witness.load_key(key_path), time.time())
    except witness.WitnessAlarm as exc:
        alarm = f"{time.strftime('%Y-%m-%d %H:%M:%S')} 告警：{exc}"
        with open(Path(state_path).with_name(Path(state_path).name + ".alarms.log"), "a", encoding="utf-8") as fh:
            fh.write(alarm + "\n")
        click.echo(alarm, err=True)
        click.echo("执法单位的记录库不再是只增不改的同一份记录：请保存本次取得的检查点，并依法督查。", err=True)
        sys.exit(2)
    except (witness.WitnessError, checkpoint.NoteError, OSError, ValueError, KeyError) as exc:
        raise click.ClickException(f"未联署：{exc}")
    origin = checkpoint.parse_checkpoint(checkpoint.split_note(note)[0])[0]
    state[origin] = entry
    witness.save_state(state_path, state)
    cosigned = note + line
    if out:
        Path(out).write_text(cosigned, encoding="utf-8")
    click.echo(cosigned, nl=False)
