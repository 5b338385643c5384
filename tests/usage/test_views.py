"""The usage and NPS settings page and the CSV import command."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from tend.cs_settings.models import SettingsChange
from tend.usage.models import SurveyResponse, UsageSettings

pytestmark = pytest.mark.django_db
CSV = b"email,score,comment\njane@acme.example,9,great\n"


def test_settings_page_saves_and_audits(client, admin, django_assert_max_num_queries):
    client.force_login(admin)
    with django_assert_max_num_queries(12):
        response = client.get("/settings/usage/")
    assert response.status_code == 200
    assert b'value="domain" selected' in response.content
    response = client.post("/settings/usage/", {"action": "settings", "accountKeyProperty": "external_id"})
    assert response.status_code == 302
    assert UsageSettings.objects.get().account_key_property == "external_id"
    assert SettingsChange.objects.filter(section="usage").count() == 1
    assert "external_id" in client.get("/settings/usage/").content.decode()


def test_settings_page_refuses_a_bad_property(client, admin):
    client.force_login(admin)
    response = client.post("/settings/usage/", {"action": "settings", "accountKeyProperty": "mrr"})
    assert response.status_code == 422
    assert b'data-testid="usage-key-error"' in response.content
    assert SettingsChange.objects.count() == 0


def test_settings_page_needs_the_permission(client, csm):
    client.force_login(csm)
    assert client.get("/settings/usage/").status_code == 403


def test_csv_upload_shows_row_errors_then_imports(client, admin, jane, acme):
    client.force_login(admin)
    bad = SimpleUploadedFile("r.csv", CSV + b"nobody@x.example,5,\n", content_type="text/csv")
    response = client.post("/settings/usage/", {"action": "import", "file": bad})
    assert response.status_code == 422
    assert response.content.count(b'data-testid="nps-import-error"') == 1
    assert b"nobody@x.example" in response.content
    good = SimpleUploadedFile("r.csv", CSV, content_type="text/csv")
    response = client.post("/settings/usage/", {"action": "import", "file": good})
    assert response.status_code == 200
    assert SurveyResponse.objects.get().score == 9


def test_import_command_dry_run_and_errors(tmp_path, jane, acme):
    path = tmp_path / "r.csv"
    path.write_bytes(CSV)
    out = io.StringIO()
    call_command("import_survey_responses", str(path), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "1 responses would be imported" in out.getvalue()
    assert SurveyResponse.objects.count() == 0
    path.write_bytes(CSV + b"jane@acme.example,99,\n")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_survey_responses", str(path), stdout=out, stderr=io.StringIO())
    assert "row 3, score" in out.getvalue()
    assert SurveyResponse.objects.count() == 0
