"""alert_text: an alert's title and evidence worded in the viewer's language, numbers in their
locale, dates in their locale and time zone."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone, translation

from tend.health.alert_text import AlertText, alert_text
from tend.health.models import HealthAlert

pytestmark = pytest.mark.usefixtures("translated")

RAISED = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def signal(key: str, evidence: dict, title: str = "stored title") -> HealthAlert:
    # unsaved: wording an alert reads only the row
    return HealthAlert(kind="churn_signal", signal=key, evidence=evidence, title=title, raised_at=RAISED)


def worded(alert: HealthAlert, language: str, zone: str = "UTC") -> AlertText:
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        return alert_text(alert)


@pytest.mark.parametrize(
    ("key", "evidence", "language", "expected"),
    [
        (
            "logins_drop",
            {"last": 3, "previous": 1200, "window_days": 30, "events": ["Logged In"]},
            "en",
            ("Logins dropped", "Logins in the last 30 days: 3, down from 1,200 in the 30 days before."),
        ),
        (
            "logins_drop",
            {"last": 3, "previous": 1200, "window_days": 30, "events": ["Logged In"]},
            "de",
            ("Logins gesunken", "Logins in den letzten 30 Tagen: 3, gesunken von 1.200 in den 30 Tagen davor."),
        ),
        (
            "tickets_spike",
            {"this_month": 9, "last_month": 2, "fact": "2026-11"},
            "it",
            ("Picco di ticket", "Ticket questo mese: 9, contro 2 il mese scorso."),
        ),
        (
            "meetings_missed",
            {
                "meetings": [
                    {"id": 1, "start_at": "2026-11-02T09:00:00+00:00"},
                    {"id": 2, "start_at": "2026-11-16T09:00:00+00:00"},
                ]
            },
            "en-gb",
            ("Meetings missed", "The last 2 scheduled meetings were all missed, the latest on 16/11/2026."),
        ),
        (
            "key_contact_left",
            {"contacts": [{"id": 4, "name": "Ann Lee"}, {"id": 5, "name": ""}]},
            "de",
            ("Hauptkontakt ausgeschieden", "Ann Lee, #5 haben das Unternehmen verlassen."),
        ),
        (
            "renewal_soon",
            {"days": 1, "renewal_date": "2026-12-06", "fact": "renewal:2026-12-06"},
            "en-gb",
            ("Renewal coming up", "The renewal is in 1 day, on 06/12/2026."),
        ),
        (
            "renewal_soon",
            {"days": 0, "renewal_date": "2026-12-06"},
            "en",
            ("Renewal coming up", "The renewal is today (12/06/2026)."),
        ),
    ],
)
def test_each_signal_reads_as_a_sentence(key, evidence, language, expected):
    assert worded(signal(key, evidence), language) == expected


def test_a_status_change_names_both_statuses_and_the_next_step_in_the_viewers_language():
    evidence = {
        "from_status": "healthy",
        "to_status": "at_risk",
        "from_score": 72.5,
        "to_score": 35.0,
        "worse": True,
        "from_label": "Healthy",
        "to_label": "At risk",
        "action": "Call the customer and agree on a recovery plan.",
        "builtin": {
            "from_label": "Healthy",
            "to_label": "At risk",
            "action": "Call the customer and agree on a recovery plan.",
        },
    }
    alert = HealthAlert(kind="status_change", evidence=evidence, title="Health changed from Healthy to At risk")

    title, sentence = worded(alert, "de")

    assert title == "Health geändert von Gesund zu Gefährdet"
    assert sentence == (
        "Der Score ist von 72,5 auf 35 gefallen. "
        "Nächster Schritt: Rufen Sie den Kunden an und vereinbaren Sie einen Wiederherstellungsplan."
    )


def test_status_labels_an_admin_typed_stay_as_typed():
    evidence = {
        "from_status": "green",
        "to_status": "red",
        "from_score": 90,
        "to_score": 10,
        "from_label": "Flying",
        "to_label": "Sinking",
        "action": "Ring them.",
    }
    alert = HealthAlert(kind="status_change", evidence=evidence, title="x")

    assert worded(alert, "ja") == (
        "ヘルスが Flying から Sinking に変化しました",
        "スコアが 90 から 10 に下がりました。 次のステップ: Ring them.",
    )


def test_an_alert_raised_before_labels_were_kept_reads_its_status_keys():
    evidence = {
        "from_status": "neutral",
        "to_status": "healthy",
        "from_score": 50.0,
        "to_score": 80.0,
        "action": "Look for expansion and ask for a reference.",
    }
    alert = HealthAlert(kind="status_change", evidence=evidence, title="Health changed from Neutral to Healthy")

    title, sentence = worded(alert, "it")

    assert title == "Salute cambiata da Neutrale a In salute"
    assert sentence.startswith("Il punteggio è salito da 50 a 80. Prossimo passo: ")
    assert "Look for" not in sentence


@pytest.mark.parametrize(
    "alert",
    [
        HealthAlert(kind="churn_signal", signal="renewal_soon", evidence={"unexpected": 1}, title="Renewal soon"),
        HealthAlert(kind="churn_signal", signal="custom", evidence={"days": 3}, title="Renewal soon"),
        HealthAlert(kind="status_change", evidence={"from": "Neutral"}, title="Renewal soon"),
    ],
)
def test_evidence_of_another_shape_reads_as_the_stored_title(alert):
    assert worded(alert, "de") == ("Renewal soon", "")
