"""Every legal statement the bureau publishes names a current law of its catalogue (data/laws.yaml) and a
provision that exists in that law's current text: the items, inspections, flow steps, remedies and
complaint time limits. A repealed law (taken out of the catalogue) or a renumbered article fails here."""
import re

import pytest
import yaml

import settings
from models import laws
from models.answers import faq_rows_from_yaml
from models.seed import load_seed
from tests.conftest import ROOT

LAW_TEXTS = ROOT.parent / "shared" / "laws"
SEED = load_seed()
CONFIG = settings.load_config(environ={})


def statements():
    """(where, text) of every legal statement in the seed data and the configuration."""
    found = [(f"事项 {i['code']}", f"《{i['basis_law']}》{i['basis_article']}") for i in SEED["items"]]
    found += [(f"抽查事项 {i['name']}", i["basis"]) for i in SEED["inspections"]]
    for category, steps in SEED["flows"].items():
        found += [(f"流程 {category}/{step[0]}", step[2]) for step in steps]
    found += [(f"救济 {r['name']}", r["source"]) for r in CONFIG["remedy"]]
    for code, rules in CONFIG["complaints"]["rules"].items():
        found += [(f"投诉规则 {code}/{limit}", rules[limit]["source"]) for limit in ("accept", "answer")]
    # The FAQ's answers that rest on a law (the others name the bureau's published record).
    found += [(f"问答 {row['key']}", row["source"]) for _, row in faq_rows_from_yaml() if "《" in row["source"]]
    return found


def law_text(law):
    path = LAW_TEXTS / law.text
    if not path.exists():
        pytest.fail(f"the text of {law.name} ({path}) is missing: ../shared/laws is part of this machine kind")
    return path.read_text(encoding="utf-8")


def test_the_catalogue_is_complete_and_dated():
    catalogue = laws.catalogue()
    assert len(catalogue) >= 15
    for law in catalogue.values():
        assert law.kind in ("法律", "行政法规", "部门规章", "规范性文件"), law.name
        assert law.version <= law.effective, law.name
        if law.verified:
            assert law.text and law.name.replace("中华人民共和国", "") in law.text.replace("中华人民共和国", ""), law.name
            law_text(law)
        else:
            assert law.note, f"{law.name} is unverified: say why in its note"


@pytest.mark.parametrize("where, text", statements(), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_every_statement_cites_a_current_law_and_provision(where, text):
    assert laws.problems(text, where) == []


@pytest.mark.parametrize("where, text", [s for s in statements() if laws.citations(s[1])],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_every_article_cited_exists_in_the_current_text(where, text):
    for name, provisions in laws.citations(text):
        law = laws.find(name)
        if not law.verified:
            continue
        body = law_text(law)
        for article in laws.articles(provisions):
            assert re.search(rf"(^|\n)\s*{article}\s", body), f"{where}: 《{name}》has no {article} in {law.text}"


def test_items_name_an_article_not_just_a_law():
    for item in SEED["items"]:
        assert laws.provisions_valid(item["basis_article"]), (item["code"], item["basis_article"])


def test_a_repealed_or_misnumbered_basis_is_caught(tmp_path, monkeypatch):
    assert laws.problems("《信访条例》第十条", "x") == ["x：《信访条例》不在本局法律法规目录中（data/laws.yaml），或已废止"]
    assert "写法不对" in laws.problems("《中华人民共和国行政处罚法》第三十六款", "x")[0]
    assert laws.problems("依法办理", "x") == ["x：没有写明依据的法律法规（应写成《法规名称》第X条）"]
    assert laws.articles("第三十二条、第三十三条第二款") == ["第三十二条", "第三十三条"]
    catalogue = yaml.safe_load((ROOT / "data" / "laws.yaml").read_text(encoding="utf-8"))
    catalogue["laws"] = [law for law in catalogue["laws"] if law["name"] != "营业性演出管理条例"]
    smaller = tmp_path / "laws.yaml"
    smaller.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(laws, "LAWS_PATH", smaller)
    monkeypatch.setattr(laws.catalogue, "__defaults__", (smaller,))
    assert laws.find("营业性演出管理条例") is None
    assert any("营业性演出管理条例" in p for where, text in statements() for p in laws.problems(text, where))
