"""公众问答 — what the bot answers beyond the published lists: the FAQ of common questions (each answer
with its source), the synonym list that turns residents' words into the bureau's, and the questions
that got no good answer, kept (text only) so staff can close the gaps.

data/faq.yaml and data/synonyms.yaml are what an empty database starts with; staff keep them current by
editing those files and running `bot.py answers update`, or by Excel (`bot.py answers export/import`).
Either way every row is checked first and nothing is written if one is bad.
"""
import datetime as dt
import re
from pathlib import Path

import yaml
from peewee import CharField, DateTimeField, IntegerField, TextField, fn

from models import laws
from models.catalogue import ImportRefused, RowError, duplicate_errors, refuse_unless_valid
from models.database import BaseModel, db
from models.masking import star

DATA = Path(__file__).resolve().parent.parent / "data"
FAQ_PATH = DATA / "faq.yaml"
SYNONYMS_PATH = DATA / "synonyms.yaml"

FAQ_KINDS = ("问答", "转介")  # 转介: a question outside the bureau's remit, pointed to the right office
# Bureau details an answer may quote, as {phone} etc.; filled from the 执法主体 record when answering.
BUREAU_FIELDS = ("name", "address", "hours", "phone", "supervisor")
MAX_QUESTION_CHARS = 200


class Faq(BaseModel):
    """常见问题 — one common question, the words residents use for it, and the sourced answer."""

    key = CharField(unique=True)  # a short English id, stable across edits (faq:KEY in the eval corpus)
    question = CharField()
    phrasings = TextField(default="")  # other ways residents ask it, one a line
    keywords = CharField(default="")  # space-separated words that point to it
    answer = TextField()
    source = TextField()
    kind = CharField(default="问答")
    seq = IntegerField(default=0)

    def render(self, bureau):
        """The answer with the bureau's current details filled in."""
        values = {name: getattr(bureau, name, "") if bureau else "" for name in BUREAU_FIELDS}
        return self.answer.format_map(values)


class Synonym(BaseModel):
    """同义词 — a word residents use (网咖) and what it means in the bureau's lists (网吧)."""

    term = CharField(unique=True)
    means = CharField()


class UnansweredQuestion(BaseModel):
    """A question the bot could not answer well: its text (numbers that may identify someone masked)
    and when; never who asked."""

    text = CharField(max_length=MAX_QUESTION_CHARS)
    outcome = CharField()  # 无结果 | 不确定
    guess = CharField(default="")  # the best match offered, if any
    asked_at = DateTimeField(index=True)

    class Meta:
        table_name = "unanswered_question"

    @classmethod
    def note(cls, text, outcome, guess, now):
        cls.create(text=mask_numbers(text)[:MAX_QUESTION_CHARS], outcome=outcome, guess=guess[:255], asked_at=now)

    @classmethod
    def by_frequency(cls, since):
        """(text, times asked, last asked, outcome of the last time, last guess), most asked first."""
        rows = (cls.select(cls.text, fn.COUNT(cls.id).alias("times"), fn.MAX(cls.asked_at).alias("last"))
                .where(cls.asked_at >= since).group_by(cls.text)
                .order_by(fn.COUNT(cls.id).desc(), fn.MAX(cls.asked_at).desc()))
        result = []
        for row in rows:
            latest = (cls.select().where((cls.text == row.text) & (cls.asked_at >= since))
                      .order_by(cls.asked_at.desc()).first())
            result.append((row.text, row.times, latest.asked_at, latest.outcome, latest.guess))
        return result


# Phone numbers, ID numbers, bank cards: a run of 7 or more digits (DOMAIN.md §1 masking rules).
LONG_NUMBER = re.compile(r"\d{7,}[\dXx]?")


def mask_numbers(text):
    """Any long number hidden the way models/masking.py hides one: a question is not a decision, so every
    run of digits counts (no amount or article number needs to survive in the unanswered list)."""
    return LONG_NUMBER.sub(lambda m: star(m.group()), text)


# -- the files and the checks ---------------------------------------------------------------------
FAQ_COLUMNS = [
    ("key", "编号"),
    ("kind", "类型"),
    ("question", "问题"),
    ("phrasings", "其他问法（每行一个）"),
    ("keywords", "关键词"),
    ("answer", "答案"),
    ("source", "依据或出处"),
]
SYNONYM_COLUMNS = [("term", "群众说法"), ("means", "对应词")]
FAQ_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def load_yaml(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def faq_rows_from_yaml(path=FAQ_PATH):
    """(number, row) pairs of data/faq.yaml, numbered by entry (1 = the first)."""
    entries = load_yaml(path).get("faq") or []
    return [(n, {"key": str(e.get("key", "")), "kind": e.get("kind", "问答"), "question": e.get("question", ""),
                 "phrasings": "\n".join(e.get("phrasings") or []), "keywords": e.get("keywords", ""),
                 "answer": (e.get("answer") or "").strip(), "source": e.get("source", "")})
            for n, e in enumerate(entries, start=1)]


def synonym_rows_from_yaml(path=SYNONYMS_PATH):
    """(number, row) pairs of data/synonyms.yaml: `means: [term, …]` groups, one row per term."""
    rows, n = [], 0
    for means, terms in (load_yaml(path).get("synonyms") or {}).items():
        for term in terms or []:
            n += 1
            rows.append((n, {"term": str(term).strip(), "means": str(means).strip()}))
    return rows


def validate_faq_rows(rows):
    errors = []
    labels = dict(FAQ_COLUMNS)
    for number, row in rows:
        for field in ("key", "question", "answer", "source"):
            if not (row.get(field) or "").strip():
                errors.append(RowError(number, f"“{labels[field]}”不能为空"))
        key = row.get("key") or ""
        if key and not FAQ_KEY.match(key):
            errors.append(RowError(number, f"编号“{key}”只能用小写英文字母、数字和“-”"))
        if (row.get("kind") or "问答") not in FAQ_KINDS:
            errors.append(RowError(number, f"类型应为：{'、'.join(FAQ_KINDS)}"))
        if len(row.get("question") or "") > 255 or len(row.get("keywords") or "") > 255:
            errors.append(RowError(number, "“问题”或“关键词”超过255字"))
        errors += answer_errors(number, row)
    return errors + duplicate_errors(rows, "key", "编号")


def answer_errors(number, row):
    """A placeholder must name a bureau detail; a cited law must be in the catalogue with valid provisions."""
    errors = []
    for name in re.findall(r"\{(\w*)\}", row.get("answer") or ""):
        if name not in BUREAU_FIELDS:
            errors.append(RowError(number, f"答案中的“{{{name}}}”无效，可用：" + "、".join(f"{{{f}}}" for f in BUREAU_FIELDS)))
    source = row.get("source") or ""
    if laws.citations(source):
        errors += [RowError(number, problem) for problem in laws.problems(source, "依据")]
    return errors


def validate_synonym_rows(rows):
    errors = []
    for number, row in rows:
        if not row.get("term") or not row.get("means"):
            errors.append(RowError(number, "“群众说法”和“对应词”都不能为空"))
        elif row["term"] == row["means"]:
            errors.append(RowError(number, f"“{row['term']}”不必写成自己的同义词"))
        elif len(row["term"]) > 100 or len(row["means"]) > 255:
            errors.append(RowError(number, "词太长（群众说法不超过100字）"))
    return errors + duplicate_errors(rows, "term", "群众说法")


def import_faq(rows):
    """Replace the FAQ by `rows`, all or nothing; returns the number of entries."""
    rows = list(rows)
    refuse_unless_valid(rows, validate_faq_rows(rows), "表格中没有问题")
    with db.atomic():
        Faq.delete().execute()
        for seq, (_, row) in enumerate(rows, start=1):
            values = {field: (row.get(field) or "").strip() for field, _ in FAQ_COLUMNS}
            Faq.create(seq=seq, **{**values, "kind": values["kind"] or "问答"})
    return len(rows)


def import_synonyms(rows):
    """Replace the synonym list by `rows`, all or nothing; returns the number of terms."""
    rows = list(rows)
    refuse_unless_valid(rows, validate_synonym_rows(rows), "表格中没有同义词")
    with db.atomic():
        Synonym.delete().execute()
        for _, row in rows:
            Synonym.create(term=row["term"].strip(), means=row["means"].strip())
    return len(rows)


def faq_export_rows():
    return [[getattr(f, field) for field, _ in FAQ_COLUMNS] for f in Faq.select().order_by(Faq.seq, Faq.id)]


def synonym_export_rows():
    return [[s.term, s.means] for s in Synonym.select().order_by(Synonym.means, Synonym.term)]


def update_from_yaml(faq_path=FAQ_PATH, synonyms_path=SYNONYMS_PATH):
    """Bring the FAQ and synonyms to the YAML files, both or neither; returns (entries, terms)."""
    faq_rows, synonym_rows = faq_rows_from_yaml(faq_path), synonym_rows_from_yaml(synonyms_path)
    errors = [RowError(e.row, f"faq.yaml 第{e.row}条 {e.reason}") for e in validate_faq_rows(faq_rows)]
    errors += [RowError(e.row, f"synonyms.yaml 第{e.row}个词 {e.reason}") for e in validate_synonym_rows(synonym_rows)]
    if errors:
        raise ImportRefused(errors)
    with db.atomic():
        return import_faq(faq_rows), import_synonyms(synonym_rows)


def seed_answers_if_empty():
    """Fill an empty FAQ and synonym list from data/; leave used ones alone. Returns True if seeded."""
    if Faq.select().exists() or Synonym.select().exists():
        return False
    update_from_yaml()
    return True


def unanswered_since(days, now=None):
    now = now or dt.datetime.now()
    return UnansweredQuestion.by_frequency(now - dt.timedelta(days=days))
