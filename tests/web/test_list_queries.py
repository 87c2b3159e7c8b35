"""List pages cost a constant number of statements, whatever the number of rows listed (issue 19).

The statements are counted by capturing the `peewee` logger at DEBUG, as the Open311 test does."""
import datetime as dt
import logging

import pytest

import settings
from models import Officer, db, ledger, treehead


def count_statements(client, caplog, path):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        response = client.get(path)
    assert response.status_code == 200, path
    count = sum(1 for r in caplog.records if r.name == "peewee")
    assert count > 0  # the logger is captured: an equality of zeros would prove nothing
    return count


@pytest.fixture
def config(app, tmp_path):
    overrides = {"ledger": {"private_key_path": str(tmp_path / "k.pem"), "feed_path": str(tmp_path / "heads.txt"),
                            "create_key_if_missing": True}}
    merged = settings.deep_merge(app.config["SANXIANG"], overrides)
    app.config["SANXIANG"] = merged
    return merged


def test_the_ledger_page_costs_the_same_for_5_or_40_decisions(client, config, caplog):
    def grow(decisions):
        with db.connection_context():
            while ledger.LedgerEntry.select().where(ledger.LedgerEntry.step == "决定").count() < decisions:
                ledger.append("step", {"decision_no": "x"}, case_no=f"C{ledger.size()}", step="决定")
                treehead.sign_head(config)
        return count_statements(client, caplog, "/ledger/")

    assert grow(5) == grow(40)


def test_the_officers_page_costs_the_same_for_more_officers(client, caplog):
    before = count_statements(client, caplog, "/officers")
    with db.connection_context():
        for i in range(30):
            Officer.create(name=f"测试{i}", cert_no=f"1505259{i:04d}", issuer="内蒙古自治区人民政府", fields="文化旅游",
                           valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2030, 1, 1))
    assert count_statements(client, caplog, "/officers") == before
