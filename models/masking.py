"""去标识化 — the one place where decision texts lose the personal information the law protects.

Before a decision is published (事后公开) or a case-file entry is served to the public, these rules remove
what identifies a natural person (个人信息保护法 arts. 25, 34–35; 政府信息公开条例 art. 15; DOMAIN.md §1):

- 身份证号 (18 digits, the last may be X; the old 15-digit form), phone numbers (mobile and landline),
  bank accounts (a person's or an organisation's), e-mail addresses;
- the home address of a natural person (住址, 户籍地, 现住…; a 住所 only where the text describes a person);
- names of natural persons other than the penalised party, reduced to surname + 某某 (张三 -> 张某某).

What stays: organisation names, the penalised party's own name, 法定代表人/负责人 (a public registry fact
and a field of the 双公示 data standard), article numbers, amounts, dates, decision and licence numbers,
统一社会信用代码.

    mask(text, party=None, people=(), keep=()) -> Masked(text, spans)

`party` is the penalised party (never reduced; guessed from "当事人：…" when not given), `people` names
known to the caller to be masked wherever they appear, `keep` fragments a clerk decided must stay
(a hand correction). `spans` say what was masked, where and why, so staff can check before publishing.
The rules are text patterns: they find what decision texts usually contain, not everything a person can
write — staff see the masked text beside the original and correct it by hand.
"""
import re
from dataclasses import dataclass, field

# What each kind of span is called for staff (the preview's reason column).
REASONS = {
    "id_card": "身份证号",
    "phone": "电话号码",
    "bank_account": "银行账号",
    "email": "电子邮箱",
    "address": "自然人住址",
    "name": "自然人姓名",
    "manual": "人工隐去",
}

# The 100 or so most common surnames cover nearly all people named in a county's decisions; a name with a
# rarer surname is still masked when the caller lists it in `people` or a clerk marks it by hand.
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
                     "司徒", "夏侯", "轩辕", "令狐", "钟离", "呼延", "端木", "独孤", "南宫", "西门", "百里")
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "宝那乌图额阿敖其格巴达"  # Mongolian names as written in Chinese in Naiman Banner often begin so
)
# Characters that end a name in running text ("证人李四称", "员工王小明在"): verbs, particles, punctuation.
NAME_STOPS = set("在于为的等和与及是称未已向对将把被系说亦也即均并曾从到给让叫因由自当作出现年岁男女上进来去持使用无不没所"
                 "担负经看玩打带讲告要会能可还又再就都独陪帮替接收拒签核填证私配提应反指供表确交找离走跑躲逃承，。、；：:,;（(）) \n")
# Words that introduce a natural person who is not the party (witnesses, staff, customers, minors…).
PERSON_CUES = ("证人", "员工", "从业人员", "收银员", "网管", "服务员", "店员", "工作人员", "值班人员", "营业员",
               "未成年人", "消费者", "顾客", "上网人员", "游客", "举报人", "投诉人", "受害人", "监护人", "驾驶员",
               "导游", "领队", "演员", "主持人", "歌手", "雇员", "职工", "见证人", "陪同人", "其父", "其母",
               "委托代理人", "代理人", "联系人", "经办人", "被委托人", "现场负责人", "股东", "学生", "儿子", "女儿", "妻子", "丈夫")
# Roles whose holder stays named: the 双公示 data standard publishes them with the decision.
KEEP_ROLES = ("法定代表人", "负责人", "经营者", "主要负责人", "执法人员", "承办人", "审核人", "批准人")
PARTY_CUES = ("当事人", "被处罚人", "被检查人", "被检查单位", "申请人", "被许可人", "相对人")
ORG_SUFFIXES = ("公司", "网吧", "网咖", "中心", "店", "厅", "馆", "社", "部", "厂", "场", "会所", "俱乐部", "工作室",
                "局", "院", "所", "站", "协会", "学校", "酒吧", "KTV", "ktv", "城", "园", "楼", "宾馆", "酒店", "超市")

ID18 = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
ID15 = r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
NUMBER_PATTERNS = [
    ("id_card", re.compile(rf"(?<![0-9A-Za-z])(?:{ID18}|{ID15})(?![0-9A-Za-z])")),
    ("phone", re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9])")),
    ("phone", re.compile(r"(?<![0-9])[(（]?0\d{2,3}[)）]?[-－— ]?[2-9]\d{6,7}(?:[-－转]\d{1,5})?(?![0-9])")),
    ("bank_account", re.compile(r"(?<![0-9A-Za-z])\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?![0-9A-Za-z])")),
    ("email", re.compile(r"[\w.+-]+@(?:[\w-]+\.)+[A-Za-z]{2,}")),
]
# A labelled number ("身份证号：…", "电话：…", "账号：…") is masked whatever its shape, a malformed one too.
LABELLED_NUMBERS = [
    ("id_card", re.compile(r"(?:公民身份号码|身份证号码|身份证号|身份证|证件号码)[:：\s]*([0-9Xx*]{6,20})")),
    ("phone", re.compile(r"(?:联系电话|联系方式|电话号码|手机号码|电话|手机|座机|tel|Tel|TEL)[:：\s]*(\+?[0-9][0-9 \-－()（）]{5,18}[0-9])")),
    ("bank_account", re.compile(r"(?:银行账号|银行帐号|银行卡号|开户账号|账号|帐号|卡号|银行账户)[:：\s]*([0-9][0-9 \-]{6,30}[0-9])")),
]
# Numbers that look personal but are not: a 统一社会信用代码 or licence number written with its label.
KEPT_NUMBER_LABELS = re.compile(r"(统一社会信用代码|信用代码|注册号|许可证号|许可证编号|证号|编号|文号|组织机构代码)[:：\s]*$")

HOME_ADDRESS_LABELS = ("家庭住址", "家庭地址", "现住址", "现住", "户籍地址", "户籍所在地", "户籍地", "居住地址",
                       "居住地", "暂住地", "住址")
# 住所 is a company's registered seat as well as a person's home: masked only in a person's description.
AMBIGUOUS_ADDRESS_LABELS = ("住所地", "住所", "地址")
PERSON_MARKERS = re.compile(r"性别|[，,（(]\s*[男女]\s*[，,）)]|出生|身份证|公民身份号码|民族|\d{1,3}岁")
ORG_MARKERS = re.compile(r"统一社会信用代码|法定代表人|营业执照|注册号|负责人|经营场所")
# An address keeps its administrative divisions (to the town or sumu), the street, village and house go.
ADDRESS_KEEP = re.compile(r"^(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区))?(?:[\u4e00-\u9fff]{2,8}?(?:市|盟|自治州|地区))?"
                          r"(?:[\u4e00-\u9fff]{1,8}?(?:旗|县|区|市))?(?:[\u4e00-\u9fff]{1,6}?(?:镇|乡|苏木|街道))?")


@dataclass(frozen=True)
class Span:
    """One masked piece: where it was in the original, what it was, what replaced it, and why."""

    start: int
    end: int
    kind: str
    original: str
    replacement: str

    @property
    def reason(self):
        return REASONS.get(self.kind, self.kind)

    def as_dict(self):
        return {"start": self.start, "end": self.end, "kind": self.kind, "reason": self.reason,
                "original": self.original, "replacement": self.replacement}


@dataclass
class Masked:
    """The masked text and what was masked in it."""

    text: str
    spans: list = field(default_factory=list)

    def kinds(self):
        return sorted({s.kind for s in self.spans})


def star(value, keep=3):
    """138xxxxxxxx -> 138********: the first `keep` characters, then one * per character hidden.
    The one rendering of a hidden number (models/answers.py mask_numbers uses it too)."""
    return value[:keep] + "*" * max(0, len(value) - keep)


def hide_number(value):
    """A hidden number keeps only its first 3 digits (an area or bank prefix), never enough to dial or pay."""
    return star(value, 3)


def surname_of(name):
    for compound in COMPOUND_SURNAMES:
        if name.startswith(compound):
            return compound
    return name[:1]


def reduce_name(name):
    """张三 -> 张某某, 欧阳娜娜 -> 欧阳某某: the surname stays, the person does not."""
    return surname_of(name) + "某某"


def looks_like_name(text):
    """Whether `text` (2–4 Han characters) can be a person's name: a known surname and not a masked one."""
    if not 2 <= len(text) <= 4 or not re.fullmatch(r"[\u4e00-\u9fff]+", text):
        return False
    surname = surname_of(text)
    rest = text[len(surname):]
    return (surname in SURNAMES or surname in COMPOUND_SURNAMES) and 1 <= len(rest) <= 2 and "某" not in rest


def _name_at(text, pos):
    """A name starting at `pos`: surname + 1–2 characters, ending before a stop character."""
    surname = next((c for c in COMPOUND_SURNAMES if text.startswith(c, pos)), text[pos:pos + 1])
    if not (surname in SURNAMES or surname in COMPOUND_SURNAMES):
        return None
    end = pos + len(surname)
    given = ""
    # The first given character is always part of the name ("王可称"); a second one only when it is not a
    # word that usually follows a name ("李娜上网", "赵强在场").
    while (end < len(text) and len(given) < 2 and re.match(r"[\u4e00-\u9fff]", text[end])
           and not (given and text[end] in NAME_STOPS) and text[end] not in "，。、；："):
        given += text[end]
        end += 1
    name = text[pos:end]
    return name if given and "某" not in given else None


def guess_party(text):
    """The penalised party as the text names it ("当事人：张三，男…" -> 张三), or None."""
    m = re.search(rf"(?:{'|'.join(PARTY_CUES)})(?:（[^）]{{0,10}}）)?[:：]\s*([^，,。；;\n（(]{{2,40}})", text)
    return m.group(1).strip() if m else None


def is_organisation(name):
    return bool(name) and (len(name) > 4 or any(name.endswith(s) for s in ORG_SUFFIXES))


def _clause_bounds(text, pos):
    """The sentence around `pos` (between 。；\\n), where a description of one person or body usually sits."""
    start = max(text.rfind(ch, 0, pos) for ch in "。；;\n") + 1
    ends = [i for i in (text.find(ch, pos) for ch in "。；;\n") if i != -1]
    return start, min(ends) if ends else len(text)


def _number_spans(text):
    spans = []
    for kind, pattern in LABELLED_NUMBERS:
        for m in pattern.finditer(text):
            value = m.group(1).rstrip(" -")
            spans.append((m.start(1), m.start(1) + len(value), kind))
    for kind, pattern in NUMBER_PATTERNS:
        for m in pattern.finditer(text):
            if kind != "email" and KEPT_NUMBER_LABELS.search(text[max(0, m.start() - 12):m.start()]):
                continue
            if kind == "bank_account" and len(re.sub(r"\D", "", m.group())) < 12:
                continue
            spans.append((m.start(), m.end(), kind))
    return spans


def _address_spans(text):
    spans = []
    labels = [(label, True) for label in HOME_ADDRESS_LABELS] + [(label, False) for label in AMBIGUOUS_ADDRESS_LABELS]
    pattern = re.compile("(" + "|".join(re.escape(label) for label, _ in labels) + r")(?:为|是|在)?[:：\s]*")
    home = dict(labels)
    taken_until = -1
    for m in pattern.finditer(text):
        if m.start() < taken_until:
            continue
        end = m.end()
        while end < len(text) and text[end] not in "，,。；;\n）)":
            end += 1
        if end - m.end() < 4:
            continue
        if not home[m.group(1)]:
            if text[max(0, m.start() - 2):m.start()] in ("经营", "营业", "注册", "办公", "单位", "场所"):
                continue
            start, stop = _clause_bounds(text, m.start())
            clause = text[start:stop]
            if not PERSON_MARKERS.search(clause) or ORG_MARKERS.search(clause):
                continue
        value = text[m.end():end]
        kept = ADDRESS_KEEP.match(value).group()
        if len(kept) < len(value):
            spans.append((m.end() + len(kept), end, "address"))
        taken_until = end
    return spans


def _listed_names(text, pos):
    """The names of a list starting at `pos` ("张三、李四和王五"); one already reduced (刘某某) is skipped."""
    names = []
    while pos < len(text):
        already = re.match(r"[\u4e00-\u9fff]{1,2}某{1,2}", text[pos:])
        name = None if already else _name_at(text, pos)
        if name:
            names.append(name)
        elif not already:
            break
        pos += already.end() if already else len(name)
        if pos >= len(text) or text[pos] not in "、和及与":
            break
        pos += 1
    return names


def _name_spans(text, party, people, keep):
    """Names to reduce: listed `people`, names after a person cue, and "X，男，…" descriptions; each found
    name is then reduced wherever it appears. The party and the holders of KEEP_ROLES stay."""
    found = {p for p in people if p}
    cue = re.compile("(?:" + "|".join(PERSON_CUES) + r")(?:[:：]\s*)?")
    for m in cue.finditer(text):
        found.update(_listed_names(text, m.end()))
    for m in re.finditer(r"([\u4e00-\u9fff]{2,4})[，,（(]\s*[男女][，,）)]", text):
        candidate = m.group(1)
        for size in (4, 3, 2):  # "当事人张三，男" or "证人李四，女": the name is the tail
            tail = candidate[-size:]
            if len(tail) == size and looks_like_name(tail):
                found.add(tail)
                break
    kept_names = set()
    role = re.compile("(?:" + "|".join(KEEP_ROLES) + r")(?:[:：]\s*)?")
    for m in role.finditer(text):
        name = _name_at(text, m.end())
        if name:
            kept_names.add(name)
    if party and not is_organisation(party):
        kept_names.add(party)
    found -= kept_names
    found = {n for n in found if n not in keep and not (party and n in party and is_organisation(party))}
    protected = [(m.start(), m.end()) for org in ([party] if party and is_organisation(party) else []) + list(keep)
                 if org for m in re.finditer(re.escape(org), text)]
    spans = []
    for name in sorted(found, key=len, reverse=True):
        for m in re.finditer(re.escape(name), text):
            if any(a <= m.start() < b for a, b in protected):
                continue
            # A longer kept name that contains this one ("张三丰" kept, "张三" masked) is not touched.
            if any(text.startswith(k, m.start() - k.find(name)) for k in kept_names if name in k and k != name
                   and k.find(name) <= m.start()):
                continue
            spans.append((m.start(), m.end(), "name"))
    return spans


def _manual_spans(text, extra):
    return [(m.start(), m.end(), "manual") for fragment in extra if fragment
            for m in re.finditer(re.escape(fragment), text)]


def _replacement(kind, original):
    if kind == "name":
        return reduce_name(original)
    if kind == "address":
        return "***"
    if kind == "email":
        return original[0] + "***@" + original.split("@", 1)[1]
    if kind == "manual":
        return "*" * len(original) if len(original) <= 6 else "***"
    digits_only = re.sub(r"[^0-9Xx*]", "", original)
    return hide_number(digits_only)


def mask(text, party=None, people=(), keep=(), extra=()):
    """De-identify a decision text; see the module docstring. `extra` fragments are masked as a clerk's
    hand correction. Never raises on odd input: None or non-text becomes ""."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    party = (party or guess_party(text) or "").strip() or None
    keep = tuple(k for k in keep if k)
    raw = _manual_spans(text, extra) + _number_spans(text) + _address_spans(text) + _name_spans(text, party, people, keep)
    kept_ranges = [(m.start(), m.end()) for k in keep for m in re.finditer(re.escape(k), text)]
    # Earlier start first, then the longer one: overlapping candidates (a phone inside a labelled run)
    # collapse into the first and widest.
    raw.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    chosen, last_end = [], -1
    for start, end, kind in raw:
        if start < last_end or start == end:
            continue
        if kind != "manual" and any(a <= start and end <= b for a, b in kept_ranges):
            continue
        chosen.append((start, end, kind))
        last_end = end
    out, spans, cursor = [], [], 0
    for start, end, kind in chosen:
        original = text[start:end]
        replacement = _replacement(kind, original)
        out.append(text[cursor:start])
        out.append(replacement)
        spans.append(Span(start, end, kind, original, replacement))
        cursor = end
    out.append(text[cursor:])
    return Masked("".join(out), spans)
