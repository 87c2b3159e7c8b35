"""行政处罚裁量基准 — the bureau's discretion levels per 执法事项 (data/discretion.yaml).

Each item's article is split into branches (by the amount of 违法所得 or 违法经营额, the party's kind, or
the conduct); each branch quotes the statute's own words, and the statutory range is read from that
quote (`statute_range`), so a range is never typed twice. A level (轻微 / 一般 / 严重) gives the part of
the range the bureau uses; 不予处罚 applies to every item and 首违不罚 to the items marked for it
(《行政处罚法》第三十三条第一款). `check` returns the flag the legal reviewer sees when a proposed fine
lies outside its level's range; it never refuses: the reviewer answers 裁量基准适当.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GRADES = ("轻微", "一般", "严重")
EXEMPT = ("不予处罚", "首违不罚")
DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def chinese_number(text):
    """五十万 → 500000, 一千万 → 10000000, 二千 → 2000 (the numerals statutes write amounts in)."""
    total = section = number = 0
    for char in text:
        if char in DIGITS:
            number = DIGITS[char]
        elif char == "万":
            total += (section + number) * 10000
            section = number = 0
        else:
            section += (number or 1) * UNITS[char]
            number = 0
    return total + section + number


def arabic(text):
    """A statute's amounts as plain numbers: 五十万元 → 500000元, 1万元 → 10000元, 1倍 stays."""
    text = re.sub(r"[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万]*(?=元|倍|以[上下])",
                  lambda m: str(chinese_number(m.group())), text)
    return re.sub(r"(\d+(?:\.\d+)?)万", lambda m: str(int(float(m.group(1)) * 10000)), text)


@dataclass(frozen=True)
class Range:
    """A statutory fine range: in 元 (`times` False) or in 倍 of 违法所得/违法经营额; `cap` in 元 if any."""

    low: float
    high: float
    times: bool = False
    cap: int = 0

    def contains(self, low, high):
        return self.low <= low <= high <= self.high

    def yuan(self, low, high, base):
        """[low, high] in 元 for a fine counted on `base` (None when a 倍 range has no base)."""
        if not self.times:
            return low, high
        if base is None:
            return None
        low, high = low * base, high * base
        return (min(low, self.cap), min(high, self.cap)) if self.cap else (low, high)


def statute_range(quote):
    """The fine range the statute's words set: X元以上Y元以下, Y元以下, X倍以上Y倍以下, 处X元罚款
    (with 最高不超过Z元); words with no amount set no fine (0 to 0)."""
    text = arabic(quote)
    cap = re.search(r"最高不超过(\d+)元", text)
    cap = int(cap.group(1)) if cap else 0
    found = re.search(r"(\d+(?:\.\d+)?)倍以上(\d+(?:\.\d+)?)倍以下", text)
    if found:
        return Range(float(found.group(1)), float(found.group(2)), True, cap)
    found = re.search(r"(\d+)元以上(\d+)元?以下", text)
    if found:
        return Range(int(found.group(1)), int(found.group(2)))
    found = re.search(r"(\d+)元以下", text)
    if found:
        return Range(0, int(found.group(1)))
    found = re.search(r"处(?:以)?(\d+)元(?:的)?罚款", text)
    if found:
        return Range(int(found.group(1)), int(found.group(1)))
    if "罚款" in text:
        raise ValueError(f"no fine range read from statute quote {quote!r}")
    return Range(0, 0)


@lru_cache(maxsize=4)
def _table(path):
    full = Path(path) if Path(path).is_absolute() else ROOT / path
    if not full.exists():
        return {}
    with open(full, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def table(config):
    return _table(config["review"]["discretion_path"])


def item(config, item_code):
    """The discretion entry of `item_code` ({} when the bureau has none)."""
    return (table(config).get("items") or {}).get(item_code) or {}


def _amount(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def branches_for(entry, party_kind, base):
    """The branches of an item that can apply to this party and this 违法所得/违法经营额 (None: not given)."""
    found = []
    for branch in entry.get("fines") or []:
        if branch.get("party_kind") and branch["party_kind"] != party_kind:
            continue
        if base is not None and "from_yuan" in branch and base < int(branch["from_yuan"]):
            continue
        if base is not None and "below_yuan" in branch and base >= int(branch["below_yuan"]):
            continue
        found.append(branch)
    return found


def check(config, item_code, party_kind, proposal):
    """The flag the reviewer sees for a proposal (level, fine_yuan, base_yuan), or "" when it fits."""
    entry = item(config, item_code)
    if not entry:
        return "本事项尚无裁量基准（data/discretion.yaml），请法制审核员逐案审查裁量是否适当"
    level = proposal.get("level")
    fine = _amount(proposal.get("fine_yuan")) or 0
    if level in EXEMPT:
        if level == "首违不罚" and not entry.get("first_offence"):
            return f"本事项未列入本局首违不罚事项，不能按“首违不罚”处理（{entry['source']}）"
        return f"“{level}”不应并处罚款（拟罚款{fine}元）" if fine else ""
    base = _amount(proposal.get("base_yuan"))
    branches = branches_for(entry, party_kind, base)
    graded = [(b, b["levels"][level]) for b in branches if level in (b.get("levels") or {})]
    if not graded:
        return f"裁量基准中本事项没有适用于{party_kind}的“{level}”档次（{entry['source']}）"
    heavy = _heavier_measures(entry, graded, level, str(proposal.get("penalty") or ""))
    if heavy:
        return heavy
    ranges, unknown = [], False
    for branch, (low, high) in graded:
        span = statute_range(branch["statute"]).yuan(low, high, base)
        if span is None:
            unknown = True
        elif span[0] <= fine <= span[1]:
            return ""
        else:
            ranges.append(f"{branch['when']}：{_yuan_text(span[0])}至{_yuan_text(span[1])}元")
    ask = "本事项可按违法所得或违法经营额的倍数罚款，拟决定未写明违法所得或违法经营额，无法核对倍数档次"
    if not ranges:
        return f"{ask}（{entry['source']}）"
    said = f"拟罚款{fine}元超出“{level}”档次（{'；'.join(ranges)}；{entry['source']}）"
    return f"{said}；{ask}" if unknown else said


# Penalties heavier than a fine: the bureau's levels say at which level an item may carry them.
MEASURES = ("停业整顿", "吊销", "降低资质等级", "责令停产停业", "责令关闭", "限制从业")


def _heavier_measures(entry, graded, level, penalty):
    """A flag when the proposed penalty carries a measure (停业整顿, 吊销 …) its level does not allow."""
    allowed = " ".join(str((branch.get("measures") or {}).get(level, "")) for branch, _ in graded)
    for word in MEASURES:
        if word in penalty and word not in allowed:
            anywhere = any(word in str(m) for b in entry.get("fines") or [] for m in (b.get("measures") or {}).values())
            where = "只在“严重”等档次适用" if anywhere else "不在本事项的法定处罚种类中"
            return f"拟处罚含“{word}”，{where}，与“{level}”档次不符（{entry['source']}）"
    return ""


def _yuan_text(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _amount_text(value, times):
    if times:
        return f"{_yuan_text(value)}倍"
    value = int(value)
    return f"{value // 10000}万元" if value >= 10000 and value % 10000 == 0 else f"{value}元"


def published(config, names):
    """The 裁量基准 as the public page shows it (《行政处罚法》第三十四条: 应当向社会公布): per item (code →
    name in `names`), each branch with the statute's words and each level's range in words."""
    rows = []
    for code, entry in (table(config).get("items") or {}).items():
        branches = []
        for branch in entry.get("fines") or []:
            statute = statute_range(branch["statute"])
            levels = []
            for level in GRADES:
                if level not in branch["levels"]:
                    continue
                low, high = branch["levels"][level]
                if statute.times:
                    span = f"违法所得或违法经营额的{_yuan_text(low)}至{_amount_text(high, True)}"
                    span += f"（最高{_amount_text(statute.cap, False)}）" if statute.cap else ""
                elif high == 0:
                    span = "不罚款"
                elif low == high:
                    span = _amount_text(low, False)
                else:
                    span = f"{_amount_text(low, False)}至{_amount_text(high, False)}"
                levels.append((level, span, (branch.get("measures") or {}).get(level, "")))
            branches.append({"when": branch["when"], "statute": branch["statute"], "levels": levels})
        rows.append({"code": code, "name": names.get(code, ""), "source": entry["source"],
                     "first_offence": bool(entry.get("first_offence")), "branches": branches})
    return rows
