"""公众问答 on the command line: the unanswered list by frequency, the FAQ and synonyms from YAML and to
and from Excel (all or nothing, bad rows named by number) — and the chat using what was imported."""
import datetime as dt

from openpyxl import load_workbook

import bot
from models.answers import FAQ_COLUMNS, SYNONYM_COLUMNS, Faq, Synonym, UnansweredQuestion
from models.retrieval import index_holder
from tests.cli.test_commands import cli_env, write_sheet  # noqa: F401  (the fixture)


def test_unanswered_questions_are_listed_by_frequency_without_who_asked(cli_env, wechat_user, app):  # noqa: F811
    for _ in range(3):
        wechat_user.say("火星骆驼")
    wechat_user.say("月亮上的兔子")
    wechat_user.say("网吧几点关门")  # answered: not listed
    result = cli_env.invoke(bot.cli, ["unanswered", "--days", "30"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    camel = next(i for i, line in enumerate(lines) if "火星骆驼" in line)
    rabbit = next(i for i, line in enumerate(lines) if "月亮上的兔子" in line)
    assert camel < rabbit and lines[camel].split()[0] == "3"
    assert "网吧几点关门" not in result.output and wechat_user.openid not in result.output
    with app.app_context():
        UnansweredQuestion.update(asked_at=dt.datetime.now() - dt.timedelta(days=40)).execute()
    assert "没有未答好的问题" in cli_env.invoke(bot.cli, ["unanswered", "--days", "30"]).output


def test_faq_excel_round_trip_and_an_imported_answer_reaches_the_chat(cli_env, tmp_path, wechat_user, app):  # noqa: F811
    path = tmp_path / "faq.xlsx"
    result = cli_env.invoke(bot.cli, ["answers", "export-faq", str(path)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == [label for _, label in FAQ_COLUMNS]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    rows.append(["camel-rides", "问答", "能骑骆驼吗？", "骑骆驼安全吗", "骆驼 骑骆驼 沙漠",
                 "骑骆驼请选有资质的景区，并注意安全。", "《中华人民共和国旅游法》第四十一条"])
    write_sheet(path, rows, header=[label for _, label in FAQ_COLUMNS])
    result = cli_env.invoke(bot.cli, ["answers", "import-faq", str(path)])
    assert result.exit_code == 0 and f"常见问题{len(rows)}条" in result.output, result.output
    index_holder.invalidate()  # the test's own process: other workers see it within search_refresh_seconds
    assert "骑骆驼请选有资质的景区" in wechat_user.say("能骑骆驼吗")


def test_a_bad_faq_sheet_is_refused_whole_with_its_rows(cli_env, tmp_path, app):  # noqa: F811
    with app.app_context():
        before = Faq.select().count()
    path = tmp_path / "faq.xlsx"
    write_sheet(path, [
        ["ok-one", "问答", "问题一", "", "词", "答案一", "本局公示信息"],
        ["Bad Key", "问答", "问题二", "", "", "答案二", "本局公示信息"],
        ["ok-two", "别的", "问题三", "", "", "答案{phone}{secret}", "《没有这部法》第一条"],
        ["ok-one", "问答", "问题四", "", "", "", ""],
    ], header=[label for _, label in FAQ_COLUMNS])
    result = cli_env.invoke(bot.cli, ["answers", "import-faq", str(path)])
    assert result.exit_code == 1
    for expected in ("第3行：编号“Bad Key”", "第4行：类型应为", "第4行：答案中的“{secret}”无效", "第4行：依据：《没有这部法》",
                     "第5行：“答案”不能为空", "第5行：编号“ok-one”与第2行重复"):
        assert expected in result.output, result.output
    with app.app_context():
        assert Faq.select().count() == before


def test_synonyms_excel_and_yaml(cli_env, tmp_path, wechat_user, app):  # noqa: F811
    path = tmp_path / "syn.xlsx"
    assert cli_env.invoke(bot.cli, ["answers", "export-synonyms", str(path)]).exit_code == 0
    rows = [[c.value for c in row] for row in load_workbook(path).active.iter_rows(min_row=2)]
    assert ["网咖", "网吧"] in rows
    write_sheet(path, rows + [["上网吧台", "网吧"], ["网咖", "网吧"]], header=[label for _, label in SYNONYM_COLUMNS])
    result = cli_env.invoke(bot.cli, ["answers", "import-synonyms", str(path)])
    assert result.exit_code == 1 and f"第{len(rows) + 3}行：群众说法“网咖”与第" in result.output
    write_sheet(path, rows + [["冲浪屋", "网吧"]], header=[label for _, label in SYNONYM_COLUMNS])
    assert cli_env.invoke(bot.cli, ["answers", "import-synonyms", str(path)]).exit_code == 0
    index_holder.invalidate()
    assert "8时至24时" in wechat_user.say("冲浪屋几点关门")
    result = cli_env.invoke(bot.cli, ["answers", "update"])
    assert result.exit_code == 0 and "已更新" in result.output
    with app.app_context():
        assert not Synonym.select().where(Synonym.term == "冲浪屋").exists()
