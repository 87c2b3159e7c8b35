"""案件 in the chat: `#立案`, `#案件`, `#记录`, `#更正` for people on the staff list.

Registered on the router's staff sub-table; handlers/wechat/staff.py lets only staff reach them.
Every write goes through models/cases.py, the functions `python bot.py case …` uses, so order, the
two certified officers, the 《音像记录事项清单》, its exceptions and who may record (models/staff.py:
the case's handlers, a 负责人, a 法制审核员 for 审核) apply alike; the acting officer is the staff
member's linked 执法证. A refused command writes nothing.

    #案件                              在办案件和当前环节
    #案件 2026-1                        记录和下一步可记录的环节（案号可写全，也可写“年-号”）
    #记录 2026-1 审核 审核人员=李某 是否重大执法决定=否 审核结论=通过 审核意见=事实清楚
    #更正 2026-1 5 检查地点=大沁他拉镇 理由=笔误，门牌号写错
"""
import datetime as dt
import re
import unicodedata

from handlers.wechat.paging import Paged
from handlers.wechat.router import router
from models import cases, ledger
from models.disclosure import Officer
from models.staff import NotAllowed, authorize

SECTION = "案件（执法全过程记录）"
NOTE = ("案号可简写如 2026-1；字段可用中文名，如 检查地点=…；多名执法人员用逗号分隔；"
        "音像记录写 附件=记录号，无法记录写 无音像理由=…")

LIST_KEYS = {"officers", "attachments", "materials", "participants", "flags"}
BOOL_KEYS = {"major", "party_waived", "hearing_withdrawn", "whole_process", "transfer"}
INT_KEYS = {"fine_yuan", "confiscation_yuan", "base_yuan", "extend_days", "measure_seq"}
YES, NO = {"是", "true", "yes", "有"}, {"否", "false", "no", "无"}
# Names staff may type for the keys every step shares.
COMMON = {"附件": "attachments", "音像": "attachments", "音像记录": "attachments", "attach": "attachments",
          "无音像理由": "av_exception", "未音像记录理由": "av_exception", "书面理由": "av_exception",
          "当事人放弃": "party_waived", "放弃陈述申辩": "party_waived",
          # optional fields of a proposal and a late decision (models/review.py, models/cases.py)
          "罚款金额": "fine_yuan", "没收金额": "confiscation_yuan", "罚没金额": "confiscation_yuan", "重大情形": "flags", "涉嫌犯罪": "transfer",
          "移送": "transfer", "超期理由": "overdue_reason", "当事人地址": "party_address", "补充内容": "supplement",
          "违法所得": "base_yuan", "违法经营额": "base_yuan", "撤回听证申请": "hearing_withdrawn",
          "查封扣押记录号": "measure_seq"}
LABEL_OF_KIND = {"evidence": "音像/文书", "correction": "更正"}


class Refused(cases.CaseError):
    """A command that cannot be read; said back in Chinese, nothing written."""


def refusal(prefix):
    """Turn the rules' refusals into a short reply; a refused write has written nothing."""
    def wrap(func):
        def command(ctx, staff, rest):
            try:
                return func(ctx, staff, rest)
            except (cases.CaseError, ledger.LedgerError, NotAllowed) as exc:
                return f"{prefix}{exc}"
        return command
    return wrap


# -- reading a command ------------------------------------------------------------------------
def short_ref(number):
    digits = re.findall(r"\d+", number)
    return "-".join(digits) if digits else number


def find_case(ref):
    """A case by its full number, or by its digits ("2026-1", "〔2026〕第1号", or "1" when unique)."""
    if not ref:
        raise Refused("请写明案号，如 #案件 2026-1。")
    case = cases.Case.by_number(ref)
    if case is not None:
        return case
    wanted = [int(d) for d in re.findall(r"\d+", ref)]
    found = [c for c in cases.Case.select().order_by(cases.Case.opened_seq)
             if wanted and [int(d) for d in re.findall(r"\d+", c.number)][-len(wanted):] == wanted]
    if len(found) == 1:
        return found[0]
    if found:
        raise Refused(f"“{ref[:20]}”对应{len(found)}个案件：" + "、".join(short_ref(c.number) for c in found[:6])
                      + "。请写明年份，如 2026-1。")
    raise Refused(f"案件“{ref[:30]}”不存在，请核对案号（回复 #案件 查看在办案件）。")


def fold(name):
    return unicodedata.normalize("NFKC", name).strip()


def key_names(step):
    """Every name a field may be typed as for `step`: its key, its label, the label without “（…）”."""
    names = dict(COMMON)
    for key, label in cases.FIELDS.get(step, []):
        names[key] = key
        names[fold(label)] = key
        names[re.sub(r"\(.*?\)", "", fold(label))] = key
    return names


def parse_fields(text, step, extra=()):
    """`字段=值 字段=值 …` into a dict of field keys; a value may contain spaces."""
    names = {**key_names(step), **{name: name for name in extra}}
    pairs = []
    for token in text.split():
        name, sep, value = token.replace("＝", "=").partition("=")
        if sep and name:
            pairs.append([name, value])
        elif pairs:
            pairs[-1][1] += " " + token
        else:
            raise Refused(f"“{token[:20]}”应写成 字段=值，如 检查地点=某网吧。")
    data = {}
    for name, value in pairs:
        key = names.get(fold(name))
        if key is None:
            known = "、".join(label for _, label in cases.FIELDS.get(step, []))
            raise Refused(f"“{step}”没有字段“{name[:20]}”。可填：{known}。")
        data[key] = typed(key, value.strip())
    return data


def typed(key, value):
    """Lists, yes/no and amounts are read from folded text; free text is kept exactly as typed."""
    if key in LIST_KEYS | BOOL_KEYS | INT_KEYS:
        value = fold(value)
    if key in LIST_KEYS:
        items = [v for v in re.split(r"[,，、;；\s]+", value) if v]
        if key == "attachments":
            if not all(v.isdigit() for v in items):
                raise Refused("附件请写音像记录的记录号，如 附件=3,4。")
            return [int(v) for v in items]
        return items
    if key in BOOL_KEYS:
        if value.lower() in YES:
            return True
        if value.lower() in NO:
            return False
        raise Refused(f"“{value[:10]}”请写“是”或“否”。")
    if key in INT_KEYS:
        if not re.fullmatch(r"\d{1,12}", value):
            raise Refused(f"金额“{value[:20]}”请写整数（元），如 5000。")
        return int(value)
    return value


def raw_rest(ctx, name, rest):
    """The words after `#name` as the staff member typed them: the router folds full-width characters
    (， becomes ,), but a case file keeps what was written."""
    raw = (ctx.message.content or "").strip()
    at = raw.find(name)
    return raw[at + len(name):].strip() if at >= 0 else rest


def acting_officer(staff):
    """The certificate the staff member acts under; the rules check it is valid today."""
    if staff.officer_id is None:
        raise Refused("您的工作人员账号没有关联执法证，不能记录案件。请管理员用 "
                      "python bot.py staff add … --officer 证号 关联。")
    return staff.officer.cert_no


def moment(ctx):
    """The message's time as the log records it (China time, whole seconds)."""
    return dt.datetime.fromtimestamp(ctx.now.timestamp(), ledger.CHINA_TZ).replace(microsecond=0)


# -- the commands -----------------------------------------------------------------------------
@router.staff("案件", "#案件　在办案件\n#案件 案号　记录和可记录的环节", SECTION)
@refusal("")
def cmd_cases(ctx, staff, rest):
    """`#案件`: open cases with their current step; `#案件 案号`: the case file and what may come next."""
    authorize(staff, "case.list")
    if rest:
        return case_file(ctx, find_case(rest.split()[0]))
    rows = [f"{'【示例】' if case.is_demo else ''}{short_ref(case.number)}　{case.recorded_party_name}\n{case.number}　当前：{status}"
            for case, status in cases.Case.open_with_status()]
    if not rows:
        return "目前没有在办案件。"
    return Paged(f"在办案件{len(rows)}件（回复“#案件 案号”查看）：", rows)


def case_file(ctx, case):
    """Header with the steps allowed next (what staff most often want), then every entry, oldest first."""
    file = case.file()
    allowed = file.allowed_next(ctx.config)
    names = {o.cert_no: o.name for o in Officer.select(Officer.cert_no, Officer.name)}
    title = (f"{case.number}\n当事人：{file.party_name}（{file.party_kind}）　事项：{case.item_code}\n"
             f"当前环节：{file.status()}；可记录：{'、'.join(allowed) or '无（已办结）'}")
    return Paged(title, [entry_line(file, entry, names) for entry in file.entries])


def entry_line(file, entry, names):
    content = file.contents[entry.seq]
    data, kind, step = content["data"], content["kind"], content["step"]
    when = content["at"][:16].replace("T", " ")
    who = names.get(content["by"], content["by"])
    labels = dict(cases.FIELDS.get(step, []))
    if kind == "correction":
        changes = "；".join(f"{labels.get(k, k)}：{show(v)}" for k, v in data["changes"].items())
        return (f"[{entry.seq}] {when} 更正第{content['corrects']}条 {who}\n{clip(changes, 80)}\n"
                f"理由：{clip(data['reason'], 60)}")
    if kind == "evidence":
        return (f"[{entry.seq}] {when} 音像/文书（{step}）{who}\n{data.get('filename', '')} {data.get('size', '')}字节 "
                f"SHA-256 {str(data.get('sha256', ''))[:12]}…")
    shown = file.effective(entry.seq) if kind == "step" else data
    summary = "；".join(f"{label}：{show(shown[k])}" for k, label in cases.FIELDS.get(step, [])
                       if k in shown and k != "officers")
    fixed = "（已更正）" if entry.seq in file.corrections else ""
    return f"[{entry.seq}] {when} {step or LABEL_OF_KIND.get(kind, kind)}{fixed} {who}\n{clip(summary, 120)}"


def show(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def clip(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "…"


PARTY_KIND_WORDS = {"自然人": "自然人", "个人": "自然人", "单位": "法人或其他组织", "法人": "法人或其他组织",
                    "组织": "法人或其他组织", "法人或其他组织": "法人或其他组织"}
OPEN_EXTRA = {"当事人": "party_name", "当事人类型": "party_kind", "承办人": "handlers", "承办人员": "handlers",
              "事项编码": "item_code", "事项": "item_code"}


@router.staff("立案", "#立案 事项编码=… 当事人=… 当事人类型=单位/自然人 承办人=证号,证号 案件来源=… 案情摘要=… 审批负责人=…",
              SECTION)
@refusal("未立案：")
def cmd_open(ctx, staff, rest):
    """`#立案 事项编码=… 当事人=… 当事人类型=… 承办人=证号,证号 …`: a new case, through models.cases.open_case."""
    data = parse_fields(raw_rest(ctx, "立案", rest), "立案", extra=OPEN_EXTRA)
    data = {OPEN_EXTRA.get(key, key): value for key, value in data.items()}
    kind = PARTY_KIND_WORDS.get(fold(data.pop("party_kind", "")))
    name = data.pop("party_name", "").strip()
    handlers = [h for h in re.split(r"[,，、;；\s]+", fold(data.pop("handlers", ""))) if h]
    if not kind or not name:
        raise Refused("请写明 当事人=名称 和 当事人类型=单位 或 自然人。")
    case = cases.open_case(ctx.config, party={"kind": kind, "name": name}, handlers=handlers,
                           by=acting_officer(staff), data=data, at=moment(ctx), actor=staff)
    return (f"已立案：{case.number}（第{case.opened_seq}条记录，记录人{staff.officer.name}）。\n"
            f"下一步可记录：{'、'.join(case.file().allowed_next(ctx.config))}")


@router.staff("记录", "#记录 案号 环节 字段=值…　记录环节", SECTION)
@refusal("未记录：")
def cmd_record(ctx, staff, rest):
    """`#记录 案号 环节 字段=值 …`: one step, through models.cases.record_step."""
    parts = raw_rest(ctx, "记录", rest).split(maxsplit=2)
    if len(parts) < 2:
        raise Refused("请写成 #记录 案号 环节 字段=值…，如 #记录 2026-1 审核 审核结论=通过。")
    case = find_case(fold(parts[0]))
    step = fold(parts[1])
    if step not in cases.FIELDS:
        raise Refused(f"没有“{step[:10]}”这个环节。可记录的环节：{'、'.join(cases.STEPS)}。")
    data = parse_fields(parts[2] if len(parts) > 2 else "", step)
    if step == "审核":
        raise Refused("法制审核请用 #审核 案号 结论 …（#帮助 查看写法）。")
    attachments = data.pop("attachments", [])
    by = acting_officer(staff)
    entry = cases.record_step(ctx.config, case.number, step, data, by=by, attachments=attachments, at=moment(ctx),
                              actor=staff)
    file = case.file()
    allowed = "、".join(file.allowed_next(ctx.config)) or "无（已办结）"
    return (f"已记录：{short_ref(case.number)} {step}（第{entry.seq}条，记录人{staff.officer.name}）。\n"
            f"哈希 {entry.leaf_hash_hex[:16]}…\n下一步可记录：{allowed}")


@router.staff("更正", "#更正 案号 记录号 字段=值 理由=…\n" + NOTE, SECTION)
@refusal("未更正：")
def cmd_correct(ctx, staff, rest):
    """`#更正 案号 记录号 字段=值 … 理由=…`: a new entry naming the one it corrects."""
    parts = [fold(p) for p in raw_rest(ctx, "更正", rest).split(maxsplit=2)[:2]] + \
        raw_rest(ctx, "更正", rest).split(maxsplit=2)[2:]
    if len(parts) < 3 or not parts[1].isdigit():
        raise Refused("请写成 #更正 案号 记录号 字段=值 理由=…，记录号见 #案件 案号。")
    case = find_case(parts[0])
    seq = int(parts[1])
    target = ledger.LedgerEntry.by_seq(seq)
    if target is None or target.case_no != case.number:
        raise Refused(f"第{seq}条记录不属于案件{case.number}。")
    changes = parse_fields(parts[2], target.step, extra=("理由", *target.content["data"]))
    reason = changes.pop("理由", "")
    by = acting_officer(staff)
    entry = cases.correct(ctx.config, case.number, seq, changes, reason, by=by, at=moment(ctx), actor=staff)
    return f"已登记更正：第{entry.seq}条，更正{short_ref(case.number)}第{seq}条（原记录保留）。"

