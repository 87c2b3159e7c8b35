"""Configuration: `config.yaml` for what a bureau edits, the environment for secrets and deployment.

This is the one reader of the environment: every variable the app knows is listed in ENV_OVERRIDES
(or LIST_OVERRIDES) and lands in the configuration, which is loaded once and passed down. Nothing
else reads os.environ (tests/test_layers.py checks).
"""
import copy
import os
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG_PATH = ROOT / "config.yaml"

# Environment variable -> (section, key). The environment always wins over config.yaml.
ENV_OVERRIDES = {
    "PORT": ("server", "port"),
    "PUBLIC_BASE_URL": ("server", "public_base_url"),
    "SECRET_KEY": ("server", "secret_key"),  # signs the session that carries form tokens (handlers/web/guard.py)
    "TRUSTED_PROXIES": ("server", "trusted_proxies"),
    "DATABASE_URL": ("database", "url"),
    "REDIS_URL": ("redis", "url"),
    "REDIS_PREFIX": ("redis", "prefix"),  # keys of this installation in a shared Redis
    "WECHAT_TOKEN": ("wechat", "token"),
    "WECHAT_AES_KEY": ("wechat", "aes_key"),
    "WECHAT_APPID": ("wechat", "appid"),
    "WECHAT_MODE": ("wechat", "mode"),  # plaintext | compatible | safe (handlers/wechat/endpoint.py)
    "WECHAT_SECRET": ("wechat", "secret"),
    "WECHAT_API_BASE": ("wechat", "api_base"),
    # The replay record (models/replay.py): files (one server) or shared (several: Redis, else PostgreSQL),
    # and the folder of its files.
    "WECHAT_REPLAY_RECORD": ("wechat", "replay_record"),
    "REPLAY_RECORD_PATH": ("wechat", "replay_record_path"),
    "LEDGER_KEY_PATH": ("ledger", "private_key_path"),  # tree-head signing key (models/treehead.py)
    "LEDGER_FEED_PATH": ("ledger", "feed_path"),  # where signed heads are appended (PostgreSQL: var/ledger/)
    # Where files go, e.g. a separate volume: case-file audio/video and documents, complaint evidence.
    "RECORDS_PATH": ("evidence", "store_path"),
    "COMPLAINT_EVIDENCE_PATH": ("complaints", "evidence_dir"),
    # 亮证 (models/badges.py): the QR signing secret, officers' photos, the card font, the staff page.
    "BADGE_SECRET": ("badges", "secret"),
    "BADGE_PHOTO_DIR": ("badges", "photo_dir"),
    "BADGE_FONT": ("badges", "font"),
    "STAFF_TOKEN": ("badges", "staff_token"),
}
# Comma-separated variables added to a list of config.yaml.
LIST_OVERRIDES = {
    "OPEN311_API_KEYS": ("complaints", "open311", "api_keys"),
}


def deep_merge(base, override):
    """Return `base` updated by `override`, merging nested dicts instead of replacing them."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(path=None, environ=None, overrides=None):
    """Read config.yaml, apply environment overrides, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    with open(path or DEFAULT_CONFIG_PATH, encoding="utf-8") as fh:
        config = yaml.safe_load(fh) or {}
    for var, (section, key) in ENV_OVERRIDES.items():
        if environ.get(var):
            config.setdefault(section, {})[key] = environ[var]
    for var, path in LIST_OVERRIDES.items():
        values = [v.strip() for v in environ.get(var, "").split(",") if v.strip()]
        if values:
            holder = config
            for key in path[:-1]:
                holder = holder.setdefault(key, {}) or {}
            holder[path[-1]] = list(holder.get(path[-1]) or []) + values
    config = deep_merge(config, overrides)
    server = config["server"]
    server["port"] = int(server["port"])
    # Unset: the address actually served, so links and badge QR codes work on any PORT out of the box.
    server["public_base_url"] = (server.get("public_base_url") or f"http://{server['host']}:{server['port']}").rstrip("/")
    return config


def export_environment(values):
    """Set variables for the program this process becomes (bot.py serve execs gunicorn, whose workers
    read them back through load_config)."""
    os.environ.update(values)


def resolve_database_url(url):
    """Make a relative sqlite path relative to the project root, so any working directory works."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(ROOT / url[len(prefix):])
    return url


def apply_timezone(config):
    """Make this process's local time the bureau's (config `timezone`, Asia/Shanghai).

    Dates that matter here — a complaint's filing day, working-day deadlines, whether a certificate
    has expired today — are Beijing dates, but servers often run on UTC, where 01:00 in Naiman is
    still yesterday. Setting the process zone once makes every now(), today() and fromtimestamp()
    agree with the bureau's calendar.
    """
    zone = config.get("timezone")
    if zone and os.environ.get("TZ") != zone:
        os.environ["TZ"] = zone
        time.tzset()


def child_environment(**extra):
    """The environment for a program this one starts (pg_dump, gunicorn …), with `extra` added."""
    return {**os.environ, **extra}
