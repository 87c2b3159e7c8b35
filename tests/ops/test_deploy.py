"""deploy/ stays in step with the code: the files the units name exist, the commands they run are
bot.py's, and nothing there logs a query string. (The soak runs deploy/gunicorn.conf.py for real.)"""
import configparser
import re
import shlex

import bot
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
INSTALL = "/opt/sanxiang/"


def units():
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read(path)
        yield path.name, parser


def test_units_run_existing_files_and_commands():
    seen = set()
    for name, unit in units():
        for key in ("ExecStartPre", "ExecStart"):
            if key not in unit["Service"]:
                continue
            words = shlex.split(unit["Service"][key].replace("%%", "%"))
            if words[0] == "/bin/sh":
                words = shlex.split(words[2])[1:]
            for word in words:
                if word.startswith(INSTALL):
                    assert (ROOT / word[len(INSTALL):]).exists() or ".venv/" in word, (name, word)
            if "bot.py" in words:
                command = words[words.index("bot.py") + 1]
                assert command in bot.cli.commands, (name, command)
                seen.add(command)
        assert unit["Service"]["WorkingDirectory"] == INSTALL.rstrip("/")
        assert unit["Service"]["EnvironmentFile"] == "/etc/sanxiang/env"
    assert {"clock", "backup", "migrate"} <= seen


def test_no_query_string_in_any_log_format():
    nginx = (DEPLOY / "nginx" / "sanxiang.conf").read_text()
    [log_format] = re.findall(r"log_format sanxiang(.*?);", nginx, re.S)
    assert "$uri" in log_format
    for variable in ("$request ", "$request\"", "$request_uri", "$args", "$query_string", "$arg_"):
        assert variable not in log_format
    assert all(line.strip().endswith("sanxiang;") for line in nginx.splitlines() if "access_log" in line)
    gunicorn = (DEPLOY / "gunicorn.conf.py").read_text()
    assert "access_log_format" not in gunicorn and "logger_class" in gunicorn


def test_wechat_is_served_on_port_80_without_a_redirect():
    nginx = (DEPLOY / "nginx" / "sanxiang.conf").read_text()
    plain = nginx.split("listen 443")[0]
    assert "location = /wechat" in plain and "return 301 https://" in plain
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in (DEPLOY / "nginx" / "sanxiang-proxy.conf").read_text()


def test_env_example_names_only_known_variables():
    import settings

    known = set(settings.ENV_OVERRIDES) | set(settings.LIST_OVERRIDES) | {"GUNICORN_CMD_ARGS"}
    names = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
             if line and not line.startswith("#")}
    assert names <= known, names - known
