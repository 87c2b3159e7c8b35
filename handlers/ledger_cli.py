"""Command line of the case file (全过程记录): verify, sign, prove, and record case steps.

    python bot.py verify [--heads FILE] [--pubkey PEM] [--no-files]
    python bot.py ledger keygen | sign | heads | proof SEQ [-o FILE]
    python bot.py case list | show NO | open … | record NO STEP … | evidence NO FILE … | correct NO SEQ …
    python bot.py case docs NO [--out DIR] | av-exceptions
"""
import json
import sys
from pathlib import Path

import click

import settings
from handlers.cli_support import open_configured_db as _config
from models import cases, ledger, treehead
from models.base import db
from models.evidence import EvidenceError, EvidenceStore
from models.verify import verify_log


def _fields(pairs):
    """key=value pairs; a value that parses as JSON (numbers, true, lists) is kept typed."""
    data = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"“{pair}”应写成 字段=值")
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value
    return data


def _refused(exc):
    click.echo(f"未记录：{exc}", err=True)
    sys.exit(1)


@click.command("verify")
@click.option("--heads", "head_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A copy of the heads feed kept elsewhere (repeatable).")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), help="The bureau's public key (PEM).")
@click.option("--no-files", is_flag=True, help="Skip rehashing the evidence files.")
def verify_command(head_files, pubkey, no_files):
    """Recompute the whole log, check it against every published head; exit 1 naming the first bad entry."""
    config = _config()
    key = treehead.load_public_key(config, pubkey)
    store = None if no_files else EvidenceStore.from_config(config)
    report = verify_log(treehead.published_heads(config, head_files), key, store)
    click.echo(f"共{report.entries}条记录，核对已发布树头{report.heads_checked}个，复核文件{report.files_checked}个；"
               f"根哈希 {report.root}")
    if report.ok:
        click.echo("核验通过：记录与已发布的签名树头一致，没有发现改动。")
        return
    first = report.first_bad_entry()
    click.echo(f"核验失败：{'第%d条记录起' % first if first is not None else ''}发现以下问题：", err=True)
    for problem in report.problems:
        click.echo(f"  - {problem.message}", err=True)
    sys.exit(1)


@click.group("ledger")
def ledger_group():
    """Signed tree heads and proofs."""


@ledger_group.command("keygen")
@click.option("--path", default=None, help="Where to write the private key (default: ledger.private_key_path).")
def keygen_command(path):
    """Make the Ed25519 signing key (once); print the public key to publish."""
    config = settings.load_config()
    target = treehead.resolve(path or config["ledger"]["private_key_path"])
    if target.exists():
        raise click.ClickException(f"{target} 已存在，不覆盖。")
    key = treehead.generate_key(target)
    click.echo(f"私钥已写入 {target}（请离线备份，切勿放入数据库或代码库）。公钥：")
    click.echo(treehead.public_key_pem(key.public_key()).decode())


@ledger_group.command("sign")
def sign_command():
    """Verify, then sign and publish a tree head now (the daily job does the same)."""
    from notices.ledger_heads import RefusedToSign, publish_tree_head

    config = _config()
    try:
        head = publish_tree_head(config)
    except RefusedToSign as exc:
        raise click.ClickException(f"未签发：记录核验失败：{exc}")
    click.echo(f"已签发树头：{head.size}条，根哈希 {head.root}，{head.timestamp}")


@ledger_group.command("heads")
def heads_command():
    """Print the heads feed."""
    config = _config()
    click.echo(treehead.feed_text(config, treehead.load_public_key(config)), nl=False)


@ledger_group.command("proof")
@click.argument("seq", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def proof_command(seq, output):
    """Inclusion proof of entry SEQ against the newest head that covers it."""
    config = _config()
    document = treehead.inclusion_proof_document(config, seq)
    if document is None:
        raise click.ClickException(f"第{seq}条记录不存在或尚未纳入已发布的树头（先运行 ledger sign）。")
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"已写入 {output}")
    else:
        click.echo(text)


@click.group("case")
def case_group():
    """案件: open a case, record its steps, attach AV, correct, show, make documents."""


@case_group.command("list")
def list_command():
    _config()
    for case in cases.Case.select().order_by(cases.Case.opened_seq):
        click.echo(f"{case.number}  {case.party_name}  {case.item_code}  当前环节：{case.file().status()}")


@case_group.command("show")
@click.argument("number")
def show_command(number):
    """The case file: every entry with its corrections, and the steps allowed next."""
    config = _config()
    try:
        case = cases.get_case(number)
    except cases.CaseError as exc:
        raise click.ClickException(str(exc))
    file = case.file()
    click.echo(f"{case.number}  当事人：{case.party_name}（{case.party_kind}）  事项：{case.item_code}")
    for entry in file.entries:
        content = file.contents[entry.seq]
        label = {"step": content["step"], "evidence": f"音像/文书（{content['step']}）",
                 "correction": f"更正第{content.get('corrects')}条"}.get(content["kind"], content["kind"])
        click.echo(f"  [{entry.seq}] {content['at']} {label} 记录人 {content['by']}  哈希 {entry.leaf_hash_hex[:16]}…")
        click.echo(f"      {json.dumps(content['data'], ensure_ascii=False)}")
    click.echo(f"当前环节：{file.status()}；可记录：{'、'.join(file.allowed_next(config)) or '无（已办结）'}")


@case_group.command("open")
@click.option("--item", "item_code", required=True, help="执法事项编码, e.g. CF-002")
@click.option("--party-kind", type=click.Choice(cases.PARTY_KINDS), required=True)
@click.option("--party-name", required=True)
@click.option("--party", "party_fields", multiple=True, help="More party fields: key=value (address=…, legal_rep=…)")
@click.option("--handler", "handlers", multiple=True, required=True, help="承办人员执法证号 (at least two)")
@click.option("--by", required=True, help="记录人执法证号")
@click.option("--field", "fields", multiple=True, help="source=… facts=… approver=…")
def open_command(item_code, party_kind, party_name, party_fields, handlers, by, fields):
    """立案."""
    config = _config()
    party = {"kind": party_kind, "name": party_name, **_fields(party_fields)}
    try:
        case = cases.open_case(config, party=party, handlers=list(handlers), by=by,
                               data={"item_code": item_code, **_fields(fields)})
    except (cases.CaseError, ledger.LedgerError) as exc:
        _refused(exc)
    click.echo(f"已立案：{case.number}（第{case.opened_seq}条记录）")


@case_group.command("record")
@click.argument("number")
@click.argument("step")
@click.option("--by", required=True, help="记录人执法证号")
@click.option("--field", "fields", multiple=True, help="key=value, repeatable; officers='[\"…\",\"…\"]'")
@click.option("--attach", "attachments", multiple=True, type=int, help="音像记录的记录号")
@click.option("--av-exception", default="", help="未进行音像记录的书面理由")
def record_command(number, step, by, fields, attachments, av_exception):
    """Record STEP of case NUMBER."""
    config = _config()
    data = _fields(fields)
    if av_exception:
        data["av_exception"] = av_exception
    try:
        entry = cases.record_step(config, number, step, data, by=by, attachments=attachments)
    except (cases.CaseError, ledger.LedgerError) as exc:
        _refused(exc)
    click.echo(f"已记录：{number} {step}（第{entry.seq}条，哈希 {entry.leaf_hash_hex}）")


@case_group.command("evidence")
@click.argument("number")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--step", required=True)
@click.option("--device", required=True, help="设备, e.g. 执法记录仪 DSJ-A8 编号03")
@click.option("--recorded-by", required=True, help="拍摄/录制人执法证号")
@click.option("--recorded-at", required=True, help="录制时间, e.g. 2026-11-02 09:30-10:10")
@click.option("--by", required=True, help="登记人执法证号")
@click.option("--whole-process", is_flag=True, help="全过程记录")
@click.option("--note", default="")
def evidence_command(number, path, step, device, recorded_by, recorded_at, by, whole_process, note):
    """Store an AV file by its SHA-256 and register it on the case."""
    config = _config()
    try:
        entry = cases.add_evidence(config, number, path, filename=Path(path).name, step=step, device=device,
                                   recorded_by=recorded_by, recorded_at=recorded_at, by=by,
                                   whole_process=whole_process, note=note)
    except (cases.CaseError, EvidenceError, ledger.LedgerError) as exc:
        _refused(exc)
    data = entry.content["data"]
    click.echo(f"已登记：第{entry.seq}条，SHA-256 {data['sha256']}，{data['size']}字节；记录环节时用 --attach {entry.seq}")


@case_group.command("correct")
@click.argument("number")
@click.argument("seq", type=int)
@click.option("--field", "fields", multiple=True, required=True, help="key=new value")
@click.option("--reason", required=True)
@click.option("--by", required=True)
def correct_command(number, seq, fields, reason, by):
    """更正: a new entry naming entry SEQ and the corrected fields (the original stays)."""
    config = _config()
    try:
        entry = cases.correct(config, number, seq, _fields(fields), reason, by=by)
    except (cases.CaseError, ledger.LedgerError) as exc:
        _refused(exc)
    click.echo(f"已登记更正：第{entry.seq}条，更正第{seq}条。")


@case_group.command("av-exceptions")
def av_exceptions_command():
    """Steps recorded without AV, with their written reasons (for 案卷评查)."""
    _config()
    rows = cases.av_exceptions()
    for entry, reason in rows:
        click.echo(f"{entry.case_no} {entry.step}（第{entry.seq}条）：{reason}")
    click.echo(f"共{len(rows)}处未进行音像记录。")


COMMANDS = [verify_command, ledger_group, case_group]


def seed_demo_cases(config):
    """Load data/cases.yaml into a database without cases (make run / init-db); never stops the start."""
    import logging

    from models.case_seed import seed_cases_if_empty

    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        count = seed_cases_if_empty(config)
        if count:
            click.echo(f"已载入{count}个演示案件的执法全过程记录，并签发签名树头。")
    except (cases.CaseError, EvidenceError, ledger.LedgerError, OSError) as exc:
        logging.getLogger(__name__).error("demonstration cases not loaded: %s", exc)
    finally:
        if opened:
            db.close()


@case_group.command("docs")
@click.argument("number")
@click.option("--by", required=True, help="生成人执法证号")
@click.option("--form", "forms", multiple=True, help="Only these forms (default: every form the case has).")
@click.option("--out", type=click.Path(file_okay=False), help="Also copy the files into this folder.")
def docs_command(number, by, forms, out):
    """执法文书: DOCX and PDF of the standard forms, stored by hash and registered on the case."""
    from models import documents

    config = _config()
    store = EvidenceStore.from_config(config)
    try:
        case = cases.get_case(number)
        for form in forms or documents.available_forms(case):
            for entry in documents.generate(config, number, form, by=by):
                data = entry.content["data"]
                click.echo(f"《{form}》{data['filename']}：第{entry.seq}条，SHA-256 {data['sha256']}")
                if out:
                    Path(out).mkdir(parents=True, exist_ok=True)
                    (Path(out) / data["filename"]).write_bytes(store.path_for(data["sha256"]).read_bytes())
    except (cases.CaseError, EvidenceError, ledger.LedgerError) as exc:
        _refused(exc)
