"""法律法规目录 — the laws and rules the bureau's lists cite, each with the version in force and the day it
took effect (data/laws.yaml, kept by the bureau), and the reading of a citation such as
《中华人民共和国旅游法》第九十五条第二款.

Every legal statement the bureau publishes names a law of this catalogue and a provision of it: an item's
basis, an inspection's, a flow step's, a remedy's, a complaint time limit's. A law that is repealed is
taken out of the catalogue, and whatever still cites it fails the checks (tests/models/test_laws.py)
and the Excel import; a renumbered article fails against the law's current text.
"""
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

LAWS_PATH = Path(__file__).resolve().parent.parent / "data" / "laws.yaml"
NUMERAL = "零〇一二三四五六七八九十百千"
_N = f"[{NUMERAL}]+"
# 第九十五条第二款, 第三十一条第（五）项, 第五十条之一; then more, joined by 、: 第三十三条、第（四）项、第三款
ARTICLE = rf"第{_N}条(?:之{_N})?(?:第{_N}款)?(?:第（{_N}）项)?"
PART = rf"(?:{ARTICLE}|第{_N}款(?:第（{_N}）项)?|第（{_N}）项)"
PROVISIONS = re.compile(rf"^{ARTICLE}(?:[、和及至]{PART})*$")
# What follows a title, read loosely (checked by provisions_valid): up to a punctuation mark, keeping （五）.
CITATION = re.compile(rf"《([^》]+)》((?:第(?:[^《；;，,。\s（）()]|（{_N}）)*)?)")


@dataclass(frozen=True)
class Law:
    """One law, regulation, rule or normative document, as in force."""

    name: str
    kind: str
    issuer: str
    version: dt.date  # the last revision or amendment
    effective: dt.date  # the day that version took effect
    text: str = ""  # the file of its current text it was checked against
    verified: bool = False
    note: str = ""

    @property
    def version_label(self):
        """现行版本 as the public pages show it."""
        return f"{self.version:%Y年%-m月%-d日}版，{self.effective:%Y年%-m月%-d日}起施行"


_loaded = {}


def catalogue(path=LAWS_PATH):
    """name -> Law for every law in data/laws.yaml, read again when the file changes."""
    path = Path(path)
    stamp = path.stat().st_mtime_ns
    cached = _loaded.get(path)
    if cached is None or cached[0] != stamp:
        with open(path, encoding="utf-8") as fh:
            entries = (yaml.safe_load(fh) or {}).get("laws") or []
        laws = {}
        for entry in entries:
            law = Law(name=entry["name"], kind=entry["kind"], issuer=entry["issuer"],
                      version=_date(entry["version"]), effective=_date(entry["effective"]),
                      text=entry.get("text") or "", verified=bool(entry.get("verified")),
                      note=entry.get("note") or "")
            laws[law.name] = law
        cached = _loaded[path] = (stamp, laws)
    return cached[1]


def find(name):
    """The law named `name` (with or without 《》), or None."""
    return catalogue().get((name or "").strip().strip("《》"))


def citations(text):
    """(law name, provisions) for every 《…》 in `text`; provisions may be "" (the law as a whole)."""
    return [(law.strip(), provisions.strip()) for law, provisions in CITATION.findall(text or "")]


def provisions_valid(provisions):
    """Whether `provisions` reads as provisions: 第X条, 第X条第Y款, 第X条第（Z）项, joined by 、."""
    return bool(PROVISIONS.match((provisions or "").strip()))


def articles(provisions):
    """The 条 a provisions text names, e.g. 第三十二条、第三十三条 -> ["第三十二条", "第三十三条"]."""
    return re.findall(rf"第{_N}条(?:之{_N})?", provisions or "")


def problems(text, where):
    """What is wrong with the citations in `text` (Chinese, naming `where`); [] when all is right."""
    found = citations(text)
    if not found:
        return [f"{where}：没有写明依据的法律法规（应写成《法规名称》第X条）"]
    result = []
    for name, provisions in found:
        if find(name) is None:
            result.append(f"{where}：《{name}》不在本局法律法规目录中（data/laws.yaml），或已废止")
        elif provisions and not provisions_valid(provisions):
            result.append(f"{where}：《{name}》的条款“{provisions}”写法不对，应如 第三十一条第（五）项")
    return result


def _date(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
