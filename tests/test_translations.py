"""Every UI message has a translation in every shipped language (ja, de, it).

The catalogs are re-extracted from the code into a scratch copy (Django's makemessages, which
merges the committed translations), so a new untranslated string anywhere fails this test.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["ja", "de", "it"]


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr(s) and flags."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        else:
            match = re.match(r'^(msgid_plural|msgid|msgstr(?:\[(\d+)\])?|msgctxt)\s+"(.*)"$', line)
            if match:
                key = match.group(1)
                value = match.group(3)
                if key.startswith("msgstr"):
                    index = int(match.group(2) or 0)
                    entry["msgstr"][index] = value
                    key = ("msgstr", index)
                else:
                    entry[key] = value
            elif line.startswith('"') and key is not None:
                value = line[1:-1]
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] += value
                else:
                    entry[key] += value
    return entries


def untranslated(path: Path) -> list[str]:
    missing = []
    for entry in parse_po(path):
        if entry["msgid"] == "":
            continue  # the header
        if "fuzzy" in entry["flags"] or not entry["msgstr"] or any(v == "" for v in entry["msgstr"].values()):
            missing.append(entry["msgid"])
    return missing


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_message_is_translated(tmp_path):
    shutil.copytree(
        ROOT / "tend", tmp_path / "tend", ignore=shutil.ignore_patterns("__pycache__", "vendor", "static", "*.mo")
    )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "TEND_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(tmp_path)}
    env.pop("TEND_DATABASE_URL", None)
    command = [
        sys.executable,
        "manage.py",
        "makemessages",
        "--no-obsolete",
        "--no-location",
        "--ignore",
        "migrations/*",
    ]
    for language in LANGUAGES:
        command += ["-l", language]
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True)
    problems = {}
    for language in LANGUAGES:
        po = tmp_path / "tend" / "locale" / language / "LC_MESSAGES" / "django.po"
        assert po.exists(), f"no catalog for {language}"
        missing = untranslated(po)
        if missing:
            problems[language] = missing[:15] + ([f"… and {len(missing) - 15} more"] if len(missing) > 15 else [])
    assert not problems, f"Messages without a translation: {problems}"
