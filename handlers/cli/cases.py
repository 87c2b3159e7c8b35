"""案件 on the command line (全过程记录): open a case, record its steps, attach audio/video, correct,
show, make the standard documents. Every write goes through models/cases.py, like the `#` commands.

    python bot.py case list | show NO | open … | record NO STEP … | evidence NO FILE … | correct NO SEQ …
    python bot.py case docs NO [--out DIR] | code NO | av-exceptions
"""
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from handlers.cli.common import open_db as _config
from handlers.cli.common import refuse
from models import cases, ledger
from models.evidence import EvidenceError, EvidenceStore


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
    refuse(f"未记录：{exc}")


@click.group("case", cls=AppGroup)
def case_group():
    """案件: open a case, record its steps, attach AV, correct, show, make documents."""


@case_group.command("list")
def list_command():
    _config()
    for case in cases.Case.select().order_by(cases.Case.opened_seq):
        demo = "【示例】" if case.is_demo else ""
        click.echo(f"{demo}{case.number}  {case.recorded_party_name}  {case.item_code}  当前环节：{case.file().status()}")


@case_group.command("refresh-limits")
def refresh_limits_command():
    """Compute every open case's stored limits (#待办, reminders) again from its file."""
    config = _config()
    click.echo(f"已按案卷重新计算{cases.refresh_limits(config, every=True)}件在办案件的期限。")


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
    click.echo(f"{case.number}  当事人：{case.recorded_party_name}（{case.recorded_party_kind}）  事项：{case.item_code}")
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


@case_group.command("code")
@click.argument("number")
def code_command(number):
    """案件查询码: the code printed on the party's 告知书/决定书 (made now if the case has none), and how many
    WeChat users are bound to the case by it (订阅案件)."""
    from models import case_subscriptions

    _config()
    try:
        case = cases.get_case(number)
    except cases.CaseError as exc:
        refuse(str(exc))
    code = case_subscriptions.code_for(case.number)
    click.echo(f"{case.number} 案件查询码：{code}（当事人发送“订阅案件 {code}”订阅）；"
               f"已订阅：{len(case_subscriptions.subscribers(case.number))}人。")


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
