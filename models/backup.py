"""Backups a county IT administrator can make, check and restore: `python bot.py backup DIR`,
`python bot.py restore DIR` (handlers/cli/ops.py).

A backup is a folder:

    manifest.json          format, when, which database, and the SHA-256 of every other file
    database.sqlite3       SQLite's online backup (a consistent copy while the service runs), or
    database.pgdump        pg_dump's custom format (a consistent snapshot; pg_restore reads it)
    heads.txt              the published signed tree heads (ledger.feed_path), as published
    pubkey.pem             the public key that checks them
    records/               the case files' audio, video and documents (evidence.store_path), by SHA-256
    complaint-evidence/    complaints' photos, voice and video (complaints.evidence_dir)
    photos/                officers' badge photos (badges.photo_dir)

What is never in it: the tree-head signing key (LEDGER_KEY_PATH) and the secrets of the environment.
The key is kept off the database's backups on purpose (config.yaml `ledger`): whoever holds a backup
must not be able to sign heads. Back it up once, offline.

Order matters, so that `verify` passes on what was copied: the heads feed is copied first (every head
in it is already in the database, which is copied next), then the database, then the files (stored
before the entry naming them is written, and never changed, so every file the copied log names is
there). A backup is built in DIR.partial and renamed when whole: a folder named DIR is complete.
"""
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from models.database import db, is_sqlite
from settings import child_environment, resolve_database_url

FORMAT = "sanxiang-backup/v1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# libpq's own URI parameters; anything else in a peewee URL (pool sizes …) is not for pg_dump.
LIBPQ_PARAMS = {"options", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                "target_session_attrs", "gssencmode", "channel_binding", "sslcrl", "service"}


class BackupError(RuntimeError):
    """A backup that cannot be made or restored; the message is Chinese and says what to do."""


def file_parts(config):
    """(name in the backup, folder or file on this server) of everything kept outside the database."""
    from models.treehead import feed_path, resolve

    return [("records", resolve(config["evidence"]["store_path"])),
            ("complaint-evidence", resolve(config["complaints"]["evidence_dir"])),
            ("photos", resolve(config["badges"]["photo_dir"])),
            ("heads.txt", feed_path(config))]


def sqlite_path(config):
    url = resolve_database_url(config["database"]["url"])
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") and ":memory:" not in url else None


def libpq(config):
    """(URI for pg_dump/pg_restore/psql without the password, environment with PGPASSWORD, schema or None).

    The password goes in the environment, not the command line, where `ps` would show it. A URL whose
    options set a search_path (tests' throwaway schemas, a shared database) is dumped for that schema only."""
    parts = urlsplit(config["database"]["url"])
    query = dict(parse_qsl(parts.query))
    env = child_environment(PGCONNECT_TIMEOUT="10")
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    schema = None
    for option in query.get("options", "").split():
        if option.startswith("-csearch_path="):
            schema = option.split("=", 1)[1].split(",")[0].strip() or None
    kept = {k: v for k, v in query.items() if k in LIBPQ_PARAMS}
    uri = urlunsplit(("postgresql", netloc, parts.path, urlencode(kept), ""))
    return uri, env, schema


def _run(argv, env, what):
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"找不到 {argv[0]}：请安装与数据库服务器同一大版本的 PostgreSQL 客户端（Debian：postgresql-client）。")
    if result.returncode != 0:
        raise BackupError(f"{what}失败（{argv[0]} 退出码 {result.returncode}）：{result.stderr.strip()[-800:]}")
    return result.stdout


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_tree(source, target):
    """Copy a folder's files (not following links out of it); the count of files copied."""
    count = 0
    if not source.exists():
        return 0
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            count += 1
    return count


def _summary():
    """What the database holds, for the manifest and the restore's report."""
    from models.complaints import Complaint
    from models.ledger import LedgerEntry
    from models.treehead import TreeHead

    head = TreeHead.latest()
    return {"ledger_entries": LedgerEntry.select().count(), "tree_heads": TreeHead.select().count(),
            "complaints": Complaint.select().count(),
            "last_head": {"size": head.size, "root": head.root, "timestamp": head.timestamp} if head else None}


def make_backup(config, target, now=None):
    """Write a complete backup into the new folder `target`; return its manifest."""
    from models.treehead import load_public_key, public_key_pem

    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} 已存在且不是空目录：请换一个新目录（例如带日期的目录名）。")
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # a backup interrupted before: never complete, never used
    partial.mkdir(parents=True)
    parts = dict(file_parts(config))

    # 1. the heads as published — before the database, so the copied database holds every one of them
    if parts["heads.txt"].exists():
        shutil.copy2(parts["heads.txt"], partial / "heads.txt")
    # 2. the database
    path = sqlite_path(config)
    if is_sqlite() and path is not None:
        database = {"backend": "sqlite", "file": SQLITE_FILE}
        source = sqlite3.connect(path, timeout=30)
        copy = sqlite3.connect(partial / SQLITE_FILE)
        try:
            source.backup(copy, pages=4096)  # online: writers go on between steps; the copy is consistent
        finally:
            copy.close()
            source.close()
    elif not is_sqlite():
        uri, env, schema = libpq(config)
        argv = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial / PG_FILE}"]
        argv += [f"--schema={schema}"] if schema else []
        _run(argv + [f"--dbname={uri}"], env, "导出数据库（pg_dump）")
        database = {"backend": "postgresql", "file": PG_FILE, "schema": schema,
                    "pg_dump": _run(["pg_dump", "--version"], env, "pg_dump --version").strip()}
    else:
        raise BackupError("内存数据库无法备份。")
    # 3. files outside the database: content-addressed and never changed once the log names them
    counts = {name: _copy_tree(source, partial / name) for name, source in parts.items() if name != "heads.txt"}
    try:
        (partial / "pubkey.pem").write_bytes(public_key_pem(load_public_key(config)))
    except FileNotFoundError:
        pass  # no key yet (nothing signed): the feed is empty too
    # 4. the manifest: a hash of every file, so a damaged copy is refused before anything is restored
    files = {str(p.relative_to(partial)): sha256_of(p) for p in sorted(partial.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "created": (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
                "database": database, "summary": _summary(), "file_counts": counts, "files": files}
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    if target.exists():
        target.rmdir()
    partial.rename(target)
    return manifest


def read_backup(source):
    """The manifest of the backup in `source`, after checking every file against it."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{source} 不是完整的备份：缺少或无法读取 {MANIFEST}。")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} 的备份格式 {manifest.get('format')!r} 不是 {FORMAT}。")
    bad = []
    for name, digest in manifest["files"].items():
        path = source / name
        if not path.is_file():
            bad.append(f"{name}（缺失）")
        elif sha256_of(path) != digest:
            bad.append(f"{name}（内容已改变）")
    if bad:
        raise BackupError("备份已损坏，未恢复任何内容：" + "、".join(bad[:10]) + ("……" if len(bad) > 10 else ""))
    return manifest


def database_is_empty(config):
    """True when the configured database holds none of our tables (or nothing in them)."""
    tables = set(db.get_tables())
    if not tables:
        return True
    from models.disclosure import Bureau
    from models.ledger import LedgerEntry

    return all(not model.table_exists() or not model.select().exists() for model in (Bureau, LedgerEntry))


def restore_backup(config, source, replace=False, safety_dir=None):
    """Put the backup in `source` in place of this installation's database and files.

    Refused unless the database is empty, or `replace` is given: then the current state is first
    backed up into `safety_dir`, so a restore is never the loss of data. Returns the manifest."""
    manifest = read_backup(source)
    source = Path(source)
    backend = manifest["database"]["backend"]
    if backend != ("sqlite" if is_sqlite() else "postgresql"):
        raise BackupError(f"这是 {backend} 数据库的备份，而本机配置的是另一种数据库（DATABASE_URL）。")
    if not database_is_empty(config):
        if not replace:
            raise BackupError("当前数据库已有数据，未恢复。确认要用备份替换现有数据时，加 --replace"
                              "（替换前会先把现有数据另行备份）。")
        make_backup(config, safety_dir)
    if not db.is_closed():
        db.close()
    if backend == "sqlite":
        _restore_sqlite(config, source / manifest["database"]["file"])
    else:
        _restore_postgresql(config, source / manifest["database"]["file"], manifest["database"].get("schema"))
    for name, target in file_parts(config):
        if name == "heads.txt":
            if (source / name).exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / name, target)
        else:
            # Content-addressed: a file already here with the same name has the same bytes (verify rehashes).
            _copy_tree(source / name, target)
    return manifest


def _restore_sqlite(config, backup_file):
    path = sqlite_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".restore-")
    os.close(fd)
    shutil.copy2(backup_file, temporary)
    for suffix in ("-wal", "-shm"):  # left by the replaced database, they would be applied to the new one
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(temporary, path)


def _restore_postgresql(config, dump, schema):
    uri, env, target_schema = libpq(config)
    if schema != target_schema:
        raise BackupError(f"备份的数据库模式（schema）为 {schema or 'public'}，与当前配置的 {target_schema or 'public'} 不同。")
    argv = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if schema:
        # The dump creates its schema; an empty or replaced one (already backed up) is dropped first.
        _run(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={uri}",
              "-c", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'], env, "清空数据库模式（psql）")
    else:
        argv += ["--clean", "--if-exists"]
    _run(argv + [f"--dbname={uri}", str(dump)], env, "恢复数据库（pg_restore）")
