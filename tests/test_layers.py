"""The house rules of the code's shape, checked: imports run downward only (bot -> handlers -> notices ->
models -> settings) with no cycles (import-linter, contracts in .importlinter), and settings.py is the
one reader of the environment."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

APP_PACKAGES = ("bot", "handlers", "notices", "models")


def python_files():
    files = [ROOT / "bot.py", ROOT / "settings.py"]
    for package in ("handlers", "notices", "models"):
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")  # import-linter's command, beside python
    result = subprocess.run([str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert "BROKEN" not in result.stdout and result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_settings_sits_at_the_bottom():
    found = [m for m in imported_modules(ROOT / "settings.py") if m.split(".")[0] in APP_PACKAGES]
    assert found == []


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_settings_reads_the_environment(path):
    """os.environ / os.getenv anywhere else would be a second, unlisted way in for configuration."""
    if path.name == "settings.py" and path.parent == ROOT:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # `request.environ` is the WSGI request's, not the process environment.
    readers = [node.lineno for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
               and not (isinstance(node.value, ast.Name) and node.value.id == "request")]
    readers += [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "os"
                and any(alias.name in ("environ", "getenv") for alias in node.names)]
    assert readers == [], f"{path.relative_to(ROOT)} reads the environment at lines {readers}; add it to settings.py"


def test_no_undefined_names_or_unused_imports():
    """pyflakes' checks (ruff F) over the app, tests, bench and tools: an undefined name is a crash
    waiting on the path no test took (a `sys.exit` without `import sys` once hid in `bot.py verify`)."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "--select", "F,E9", "bot.py", "settings.py",
                             "handlers", "models", "notices", "tests", "bench", "tools"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
