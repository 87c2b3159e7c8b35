"""De-identification of decision texts (models/masking.py): the corpus of realistic decisions in
tests/fixtures/masking_corpus.yaml, scored, and the API other areas build on.

    python -m tests.models.test_masking     prints the corpus score and every miss
"""
from pathlib import Path

import pytest
import yaml

from models.answers import mask_numbers
from models.masking import Masked, mask, reduce_name

CORPUS = yaml.safe_load((Path(__file__).resolve().parent.parent / "fixtures" / "masking_corpus.yaml")
                        .read_text(encoding="utf-8"))


def misses(case):
    """What the rules got wrong in one corpus case: leaked fragments and lost ones."""
    result = mask(case["text"], party=case.get("party"), people=case.get("people", ()))
    leaked = [f"泄露 {f}" for f in map(str, case["masked"]) if f in result.text]
    lost = [f"误隐 {f}" for f in map(str, case["kept"]) if f not in result.text]
    return leaked + lost


def score():
    """(fragments handled right, fragments in all, misses by case id)."""
    total = sum(len(c["masked"]) + len(c["kept"]) for c in CORPUS)
    wrong = {c["id"]: misses(c) for c in CORPUS}
    wrong = {k: v for k, v in wrong.items() if v}
    return total - sum(map(len, wrong.values())), total, wrong


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 40
    assert len({c["id"] for c in CORPUS}) == len(CORPUS)
    assert sum(bool(c["masked"]) for c in CORPUS) >= 30  # most texts hold something to hide


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_corpus_case(case):
    assert misses(case) == []


def test_corpus_score(capsys):
    right, total, wrong = score()
    with capsys.disabled():
        print(f"\nmasking corpus: {right}/{total} fragments right ({right / total:.1%}) in {len(CORPUS)} texts")
    assert wrong == {}


def test_spans_say_what_and_why():
    text = "当事人：某某网吧。证人李四称，其电话13812345678。"
    result = mask(text)
    assert isinstance(result, Masked)
    assert result.text == "当事人：某某网吧。证人李某某称，其电话138********。"
    assert [(s.kind, s.reason, s.original) for s in result.spans] == [("name", "自然人姓名", "李四"),
                                                                     ("phone", "电话号码", "13812345678")]
    for span in result.spans:
        assert text[span.start:span.end] == span.original


def test_fifteen_and_eighteen_digit_ids():
    assert "150525780506123" not in mask("身份证150525780506123。").text
    assert "15052519780506123X" not in mask("号码15052519780506123X，").text
    assert "15052519780506123x" not in mask("号码15052519780506123x，").text


def test_amounts_dates_numbers_stay():
    text = "罚款人民币12345678元，2026年12月28日，20261228，奈文旅罚决〔2026〕第123号，第三十一条第（二）项。"
    assert mask(text).text == text


def test_party_kept_when_given_and_people_reduced_everywhere():
    text = "王桂芝经营桂芝网吧，王小二在场，王桂芝称王小二是亲戚。"
    result = mask(text, party="王桂芝", people=["王小二"])
    assert result.text == "王桂芝经营桂芝网吧，王某某在场，王桂芝称王某某是亲戚。"


def test_keep_and_extra_are_hand_corrections():
    text = "证人方圆称，他家在红星路。"
    assert "方圆" in mask(text, keep=["方圆"]).text
    corrected = mask(text, extra=["红星路"])
    assert "红星路" not in corrected.text
    assert corrected.spans[-1].kind == "manual"


def test_masking_is_idempotent():
    for case in CORPUS:
        once = mask(case["text"], party=case.get("party"), people=case.get("people", ())).text
        assert mask(once, party=case.get("party")).text == once, case["id"]


@pytest.mark.parametrize("odd", [None, "", 12345, "\x00\x01", "某" * 5000, "1" * 300])
def test_odd_input_never_raises(odd):
    assert isinstance(mask(odd).text, str)


def test_reduce_name_keeps_compound_surnames():
    assert reduce_name("欧阳娜娜") == "欧阳某某"
    assert reduce_name("张三") == "张某某"


def test_mask_numbers_hides_numbers_like_masking():
    assert mask_numbers("我的电话13812345678") == "我的电话138********"


if __name__ == "__main__":
    right, total, wrong = score()
    print(f"masking corpus: {right}/{total} fragments right ({right / total:.1%}) in {len(CORPUS)} texts")
    for case_id, found in wrong.items():
        print(f"  {case_id}: {'；'.join(found)}")
