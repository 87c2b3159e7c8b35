"""检索 — finding what a resident means among everything the bot can answer.

Every answerable thing (an item, an inspection, a flow, an officer, a FAQ entry, the remedies, the
complaint channels, the bureau's details) is a document. A question and every document go through the
same steps: lower case, residents' words replaced by the bureau's (the synonym list, models/answers.py),
segmentation by jieba (search mode, so 导游证 also yields 导游), stop words out. BM25 (bm25s) ranks the
documents; how much of the question the best one covers (by inverse document frequency) decides
whether it is an answer, a "您是不是想问" or nothing.

The index lives in each process, built from the database on first use and checked again at most every
`refresh_seconds`: the documents are re-read (a few queries) and the index is rebuilt only when they
changed, so an Excel import reaches every worker within that time.
"""
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field

import bm25s
import jieba

from models.answers import Faq, Synonym
from models.database import db
from models.disclosure import EnforcementItem, FlowStep, InspectionItem, Officer

jieba.setLogLevel(logging.WARNING)

# Words that carry no topic: particles, pronouns, question words. What is left is what a question is about.
STOPWORDS = frozenset("""
的 了 吗 呢 吧 啊 呀 么 嘛 哦 哈 嗯 噢 哎 呗 啦 喽 咯 得 地 着 过 之 其 此 这 那 这个 那个 这些 那些 这样 那样
我 你 您 他 她 它 我们 你们 他们 她们 咱们 自己 本人 俺 咱 人家 别人 有人 大家 家里 我家
是 不是 在 有 没 没有 和 与 及 或 或者 还是 就 都 也 还 又 再 才 只 很 太 挺 最 更 非常 真 真的 比较 特别
要 想 想要 需要 应该 能 能不能 可以 可不可以 会 会不会 该 得 必须 可能 是否
请问 请 问 问下 问问 问一下 一下 一个 一些 一点 有点 些 个 下 上 里 中
什么 啥 怎么 怎么办 怎么样 怎样 如何 为什么 为啥 咋 咋办 咋整 干嘛 多少 多久 几 哪 哪些 哪个 哪里 哪儿
被 把 给 让 叫 到 去 来 对 向 跟 从 用 为 因为 所以 但是 但 如果 然后 现在 今天 昨天 刚才 已经 一直 经常
了解 知道 咨询 问题 情况 事 事情 东西 时候 这边 那边 这里 那里 一般 是不是 行不行 可以吗 好不好 对不对
谢谢 你好 您好 老师 同志 领导 师傅 工作人员 麻烦 帮忙 帮 看看 说 讲 告诉 人 有人 们
a an the is are am do does i you we it to of in on at for my me can how what please your our there this that
with about have has get want need if be any tell know is's i'm
""".split())
TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")


def is_english(text):
    """Mostly Latin letters: a visitor writing in English (answered in Chinese, with the help text)."""
    letters = sum(c.isascii() and c.isalpha() for c in text)
    return letters >= 2 and letters >= 0.5 * len(text.replace(" ", ""))

ANSWER_COVERAGE = 0.55  # the best document covers this share of the question's weight: an answer
SUGGEST_COVERAGE = 0.3  # at least this: "您是不是想问" with the best few; below: no answer
TIE_RATIO = 0.85  # items scoring within this of the best one are answered together (a topic word)


@dataclass(frozen=True)
class Doc:
    key: str  # kind:id, e.g. item:CF-003, faq:netbar-hours, officer:15052501001, remedy
    title: str  # shown in "您是不是想问"; typing it back finds this document again
    text: str  # what is indexed
    topics: str = ""  # an item's keywords: one of them alone (网吧) asks for all the items it names

    @property
    def kind(self):
        return self.key.partition(":")[0]

    @property
    def ref(self):
        return self.key.partition(":")[2]


@dataclass
class Hit:
    doc: Doc
    score: float
    coverage: float


@dataclass
class Result:
    """What a question was understood as: `mode` is answer (hits[0]), list (all hits, items of one topic),
    suggest (the best few, none sure) or none."""

    mode: str
    hits: list = field(default_factory=list)
    tokens: list = field(default_factory=list)

    @property
    def keys(self):
        return [h.doc.key for h in self.hits]


def fixed_documents(config):
    """The answers that are whole lists rather than rows: remedies, channels, the bureau, the laws."""
    remedies = " ".join(r["name"] for r in config.get("remedy", []))
    channels = " ".join(str(c["name"]) for c in config.get("complaint_channels", []))
    return [
        Doc("remedy", "对执法不服的救济途径（行政复议、行政诉讼）",
            f"救济 救济途径 行政复议 行政诉讼 不服 申诉 期限 {remedies}"),
        Doc("channels", "投诉举报的渠道和电话", f"投诉方式 投诉渠道 举报方式 投诉电话 举报电话 渠道 {channels}"),
        Doc("subject", "本局职责、权限、地址和电话（执法主体）", "执法主体 职责 权限 法定依据 执法权限 主要职责 文旅局 文化和旅游局"),
        Doc("basis", "本局执法依据的法律法规", "执法依据 法律依据 法律法规 法律 法规 条例 现行版本"),
        Doc("flows", "执法流程（处罚、检查、强制、许可）", "执法流程 流程 程序 步骤 办事流程"),
        Doc("items", "行政执法事项清单", "执法事项 事项清单 权责清单 执法事项清单 清单"),
        Doc("inspections", "随机抽查事项清单", "随机抽查 双随机 抽查事项 抽查 一公开"),
    ]


def collect_documents(config):
    """Every answerable thing in the database, as documents (a few queries)."""
    docs = [Doc(f"faq:{f.key}", f.question, " ".join([f.question, f.phrasings, f.keywords]))
            for f in Faq.select().order_by(Faq.seq, Faq.id)]
    for item in EnforcementItem.select().order_by(EnforcementItem.code):
        law = item.basis_law.replace("中华人民共和国", "")
        docs.append(Doc(f"item:{item.code}", item.name, f"{item.name} {item.category} {item.keywords} {law}",
                        item.keywords))
    for inspection in InspectionItem.published():
        docs.append(Doc(f"inspection:{inspection.id}", inspection.name,
                        f"{inspection.name} 随机抽查 {inspection.target} {inspection.content}"))
    steps = {}
    for step in FlowStep.select(FlowStep.category, FlowStep.title).order_by(FlowStep.category, FlowStep.seq):
        steps.setdefault(step.category, []).append(step.title)
    for category, titles in steps.items():
        docs.append(Doc(f"flow:{category}", f"{category}的流程", f"{category} 流程 程序 步骤 {' '.join(titles)}"))
    for officer in Officer.select().order_by(Officer.cert_no):
        docs.append(Doc(f"officer:{officer.cert_no}", f"执法人员{officer.name}",
                        f"{officer.name} {officer.cert_no} 执法人员 {officer.fields}"))
    return docs + fixed_documents(config)


def collect_synonyms():
    return [(s.term, s.means) for s in Synonym.select().order_by(Synonym.id)]


class Index:
    """BM25 over the documents, with the synonym list applied to questions and documents alike."""

    def __init__(self, docs, synonyms, extra_words=()):
        self.docs = docs
        self.synonyms = {term.lower(): means for term, means in synonyms}
        canonical = {means.lower(): means for means in self.synonyms.values()}
        self.replacements = {**canonical, **self.synonyms}
        # Longest first, so 黑导游 is replaced before 导游; a canonical word maps to itself, so 网络表演 is
        # not cut into 网络 + 表演 (→ 营业性演出). English words only whole.
        parts = [re.escape(t) if not t.isascii() else rf"(?<![a-z]){re.escape(t)}(?![a-z])"
                 for t in sorted(self.replacements, key=len, reverse=True)]
        self.pattern = re.compile("|".join(parts)) if parts else None
        for word in {*canonical.values(), *extra_words}:
            if len(word) > 1 and not word.isascii():
                jieba.add_word(word, freq=20000)
        self.doc_tokens = [self.tokenize(d.text) for d in docs]
        self.doc_sets = [set(tokens) for tokens in self.doc_tokens]
        self.topic_sets = [set(self.tokenize(d.topics)) for d in docs]
        self.bm25 = bm25s.BM25()
        self.bm25.index(self.doc_tokens, show_progress=False)
        n = len(docs)
        df = {}
        for tokens in self.doc_sets:
            for token in tokens:
                df[token] = df.get(token, 0) + 1
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        # A word no document has is mostly the resident's own detail (三点, 盖房子): it counts, but as
        # half a typical word, so one such word does not sink an otherwise clear question.
        weights = sorted(self.idf.values())
        self.unknown_idf = 0.5 * weights[len(weights) // 2] if weights else 1.0

    def with_synonyms(self, text):
        text = text.lower()
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: f" {self.replacements[m.group()]} ", text)

    def tokenize(self, text):
        tokens = []
        for token in jieba.lcut_for_search(self.with_synonyms(text)):
            token = token.strip().lower()
            if token and token not in STOPWORDS and TOKEN_OK.search(token) and not token.isdigit():
                tokens.append(token)
        return tokens

    def search(self, text, limit=3):
        """Understand `text`: a Result (see there)."""
        tokens = list(dict.fromkeys(self.tokenize(text)))
        if is_english(text):
            tokens = [t for t in tokens if t in self.idf]  # answered in Chinese: only the words we know count
        if not tokens:
            return Result("none", [], tokens)
        scores = self.bm25.get_scores(tokens)
        order = sorted(range(len(self.docs)), key=lambda i: -scores[i])
        words = self.words(text, known_only=is_english(text))
        weight = sum(w for _, w in words) or 1.0
        # Every document that shares a word is weighed (a few dozen set lookups): a rare exact word
        # (噪音) must not lose to the many parts of a long one (歌舞娱乐场所) in BM25's top few.
        hits = [Hit(self.docs[i], float(scores[i]), self._coverage(words, i) / weight)
                for i in order if scores[i] > 0]
        if not hits:
            return Result("none", [], tokens)
        # The most of the question covered; on a tie a FAQ answer (written for residents) before an item.
        best = max(hits, key=lambda h: (round(h.coverage, 2), h.doc.kind == "faq", h.score))
        if best.coverage >= ANSWER_COVERAGE:
            # One topic word (网吧, 旅行社): the items of that topic, as the lists always answered it.
            topic = self.is_topic(text)
            together = [h for h in hits if h.doc.kind == "item" and h.coverage >= ANSWER_COVERAGE
                        and (h.score >= TIE_RATIO * best.score if not topic
                             else set(tokens) <= self.topic_sets[self.docs.index(h.doc)])]
            if (topic and together) or (best.doc.kind == "item" and len(together) > 1):
                return Result("list", together, tokens)
            return Result("answer", [best] + [h for h in hits if h is not best][:limit - 1], tokens)
        if best.coverage >= SUGGEST_COVERAGE:
            return Result("suggest", sorted(hits, key=lambda h: (-round(h.coverage, 2), -h.score))[:limit], tokens)
        return Result("none", hits[:limit], tokens)

    def related_faq(self, text, limit=2):
        """FAQ entries that contain every word of `text`, best first ("网吧" → 网吧几点开门…)."""
        tokens = list(dict.fromkeys(self.tokenize(text)))
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        found = [i for i, d in enumerate(self.docs) if d.kind == "faq" and set(tokens) <= self.doc_sets[i]]
        return [self.docs[i] for i in sorted(found, key=lambda i: -scores[i])[:limit]]

    def is_topic(self, text):
        """Whether `text` is one word of the lists and nothing else ("网咖" → 网吧)."""
        words = [w for w in jieba.lcut(self.with_synonyms(text)) if w.strip() and w not in STOPWORDS
                 and TOKEN_OK.search(w)]
        return len(words) == 1

    def words(self, text, known_only=False):
        """The question's words as typed (jieba's default cut), each once with its weight and the
        index tokens that stand for it: the word itself and its parts (导游证 → 导游, 导游证). Each word
        counts once, however many parts it has (歌舞娱乐场所 must not outweigh 打架)."""
        found = []
        for word in dict.fromkeys(jieba.lcut(self.with_synonyms(text))):
            word = word.strip().lower()
            if not word or word in STOPWORDS or not TOKEN_OK.search(word) or word.isdigit():
                continue
            parts = [t for t in self.tokenize(word) if t != word]
            known = [self.idf[t] for t in [word] + parts if t in self.idf]
            if known_only and not known:
                continue
            weight = self.idf.get(word) or (max(known) if known else self.unknown_idf)
            # One character is mostly a verb or a measure (卖, 交, 岁): half the say of a noun.
            found.append(((word, parts), weight * (0.5 if len(word) == 1 else 1.0)))
        return found

    def _coverage(self, words, i):
        """How much of the question's weight document `i` covers: a word whole, or half for a part of it."""
        covered = 0.0
        for (word, parts), weight in words:
            if word in self.doc_sets[i]:
                covered += weight
            elif any(part in self.doc_sets[i] for part in parts):
                covered += 0.5 * weight
        return covered


class IndexHolder:
    """This process's index: rebuilt when the documents of the database it was built from change."""

    def __init__(self):
        self._lock = threading.Lock()
        self._database = None
        self._fingerprint = None
        self._index = None
        self._checked_at = 0.0

    def get(self, config, refresh_seconds):
        now = time.monotonic()
        if self._index is not None and self._database is db.obj and now - self._checked_at < refresh_seconds:
            return self._index
        with self._lock:
            if self._index is not None and self._database is db.obj and now - self._checked_at < refresh_seconds:
                return self._index
            docs, synonyms = collect_documents(config), collect_synonyms()
            fingerprint = hash((tuple(docs), tuple(synonyms)))
            if fingerprint != self._fingerprint or self._index is None:
                names = [d.title.removeprefix("执法人员") for d in docs if d.kind == "officer"]
                keywords = {w for f in Faq.select(Faq.keywords) for w in f.keywords.split()}
                keywords |= {w for i in EnforcementItem.select(EnforcementItem.keywords) for w in i.keywords.split()}
                self._index = Index(docs, synonyms, extra_words=names + sorted(keywords))
                self._fingerprint = fingerprint
            self._database, self._checked_at = db.obj, time.monotonic()
            return self._index

    def invalidate(self):
        """Check the database again on the next question (after an import in this process)."""
        self._checked_at = 0.0


index_holder = IndexHolder()


def current_index(config):
    return index_holder.get(config, config["wechat"].get("search_refresh_seconds", 30))


def warm_up():
    """Load jieba's dictionary now (about a second) rather than in the first resident's reply."""
    jieba.initialize()
