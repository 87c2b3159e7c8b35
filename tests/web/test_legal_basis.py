"""执法依据 and 合法性审核 on the public pages and in the chat: every law with its version in force and
what cites it; each list says when the justice bureau reviewed it and whether it changed since; staff
enter the review and update the lists from the command line; an item citing an unknown law is refused."""
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

import bot
from models import EnforcementItem, ListReview, Staff, db, laws
from models.catalogue import ITEM_COLUMNS


@pytest.fixture
def cli(app, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(bot.cli, list(args))


def test_basis_page_lists_laws_with_versions_and_who_cites_them(client):
    html = client.get("/basis").get_data(as_text=True)
    assert "《互联网上网服务营业场所管理条例》" in html and "2022年3月29日版，2022年5月1日起施行" in html
    assert "CF-004" in html and "第三十一条第（五）项" in html  # the corrected provision, with its item
    assert "救济：行政复议" in html and "《中华人民共和国行政复议法》" in html
    for law in laws.catalogue().values():
        assert f"《{law.name}》" in html
    assert "本局尚未取得该文件现行文本核对条文" in html  # an unverified one says so


def test_items_show_the_version_in_force(client, wechat_user):
    html = client.get("/items?q=假唱").get_data(as_text=True)
    assert "营业性演出管理条例" in html and "2020年11月29日版" in html
    assert "2020年11月29日版" in wechat_user.say("假唱")
    assert "现行版本" in wechat_user.say("执法依据") and "营业性演出管理条例" in wechat_user.say("执法依据")


def test_flows_name_their_basis(client):
    html = client.get("/flows").get_data(as_text=True)
    assert "依据：《中华人民共和国行政处罚法》" in html


def test_a_review_is_shown_until_the_list_changes(client, cli):
    assert "合法性审核信息尚未录入" in client.get("/items").get_data(as_text=True)
    refused = cli("lists", "review", "行政执法事项清单", "--date", "2026-11-20", "--number", "奈司审〔2026〕12号",
                  "--staff", "张丽")
    assert refused.exit_code == 1 and "不在工作人员名单上" in refused.output
    db.connect(reuse_if_open=True)
    Staff.add("o_clerk", "张丽", "受理员")
    Staff.add("o_head", "吴局长", "负责人")
    clerk = cli("lists", "review", "行政执法事项清单", "--date", "2026-11-20", "--number", "奈司审〔2026〕12号",
                "--staff", "张丽")
    assert clerk.exit_code == 1 and "需要负责人角色" in clerk.output
    done = cli("lists", "review", "行政执法事项清单", "--date", "2026-11-20", "--number", "奈司审〔2026〕12号",
               "--staff", "吴局长")
    assert done.exit_code == 0 and "奈曼旗司法局 奈司审〔2026〕12号（2026-11-20），负责人 吴局长录入" in done.output
    html = client.get("/items").get_data(as_text=True)
    assert "本清单经奈曼旗司法局合法性审核（奈司审〔2026〕12号，2026年11月20日）后公布" in html
    assert "尚待审核" not in html
    db.connect(reuse_if_open=True)
    EnforcementItem.update(penalty="警告").where(EnforcementItem.code == "CF-003").execute()
    assert "改动部分尚待审核" in client.get("/items").get_data(as_text=True)
    status = cli("lists", "status").output
    assert "行政执法事项清单：奈曼旗司法局" in status and "尚待审核" in status
    assert "随机抽查事项清单：尚未录入合法性审核" in status
    db.connect(reuse_if_open=True)
    review = ListReview.latest("行政执法事项清单")
    review.document_no = "改过"
    with pytest.raises(ValueError):
        review.save()


def test_lists_update_brings_an_old_database_to_the_data(client, cli):
    db.connect(reuse_if_open=True)
    EnforcementItem.update(basis_article="第三十一条第（三）项").where(EnforcementItem.code == "CF-004").execute()
    EnforcementItem.delete().where(EnforcementItem.code == "CF-028").execute()
    result = cli("lists", "update")
    assert result.exit_code == 0 and "新增1项" in result.output and "尚待审核" not in result.output
    db.connect(reuse_if_open=True)
    assert EnforcementItem.get(EnforcementItem.code == "CF-004").basis_article.endswith("第三十一条第（五）项")
    assert EnforcementItem.select().where(EnforcementItem.code == "CF-028").exists()


def test_excel_import_refuses_a_law_not_in_the_catalogue(cli, tmp_path):
    path = tmp_path / "items.xlsx"
    sheet = Workbook()
    sheet.active.append([label for _, label in ITEM_COLUMNS])
    sheet.active.append(["CF-900", "测试事项", "行政处罚", "信访条例", "第十条", "奈曼旗文化和旅游局", "执法大队", "", ""])
    sheet.active.append(["CF-901", "测试事项二", "行政处罚", "营业性演出管理条例", "第四十七款", "奈曼旗文化和旅游局",
                         "执法大队", "", ""])
    sheet.save(path)
    result = cli("import-items", str(path))
    assert result.exit_code == 1
    assert "第2行：设定依据《信访条例》不在本局法律法规目录中" in result.output
    assert "第3行：条款“第四十七款”应写成" in result.output
    db.connect(reuse_if_open=True)
    assert not EnforcementItem.select().where(EnforcementItem.code.in_(["CF-900", "CF-901"])).exists()
