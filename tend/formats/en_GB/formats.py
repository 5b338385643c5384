"""English (UK): Django's British dates, with the 24-hour clock British business software uses
("06/12/2026 14:30", not "2:30 p.m.")."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
