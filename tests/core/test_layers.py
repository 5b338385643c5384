"""The layers point one way (ARCHITECTURE.md): a lower app imports no higher one, not even inside
a function. Higher apps tell lower ones nothing; lower ones announce through tend.core.hooks."""

import ast
from pathlib import Path

import pytest

TEND = Path(__file__).resolve().parents[2] / "tend"

# The apps between the record engine and the tabs: they may use each other and anything below,
# never the tabs (workspace, boards, tasks, schedule) nor the demo generator.
BELOW_THE_TABS = {
    "core",
    "directory",
    "crm",
    "engagement",
    "activity",
    "cs_settings",
    "usage",
    "notifications",
    "health",
}

# app → the apps it may import (besides itself)
ALLOWED = {
    "core": set(),
    "directory": {"core"},
    "crm": {"core", "directory"},
    "cs_settings": {"core", "directory", "crm"},
    # engagement reads the Customer Success settings (the customer object, its CSM and renewal date)
    "engagement": {"core", "directory", "crm", "cs_settings"},
    # contact activity, beside the engagements: the usage ingestion above writes it; it subscribes
    # to engagement's email events (tend.engagement.mail.events), which never imports it
    "activity": {"core", "directory", "crm", "engagement"},
    # the bells: told by engagement through tend.core.hooks, called by health and the workflows
    "notifications": {"core", "directory", "crm"},
    # usage announces news of accounts through tend.core.hooks; health reads usage
    "usage": {"core", "directory", "crm", "engagement", "activity", "cs_settings"},
    "health": BELOW_THE_TABS,
    # reports, dashboards and the CS KPIs: read everything below the tabs
    "reports": BELOW_THE_TABS,
}


def imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tend" and len(parts) > 1 and (TEND / parts[1]).is_dir():
                apps.add(parts[1])
    return apps


@pytest.mark.parametrize("app", list(ALLOWED))
def test_a_lower_layer_imports_no_higher_one(app):
    offending = {
        str(path.relative_to(TEND.parent)): sorted(imported_apps(path) - ALLOWED[app] - {app})
        for path in sorted((TEND / app).rglob("*.py"))
        if "migrations" not in path.parts
    }
    assert {path: apps for path, apps in offending.items() if apps} == {}


def test_the_check_sees_an_import_of_the_tabs(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "import tend.boards.views\nfrom tend.workspace.settings_views import SECTIONS\n", encoding="utf-8"
    )
    assert imported_apps(module) == {"boards", "workspace"}
