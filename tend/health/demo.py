"""Demo data for health: the template profile, active, and a full recompute with progress."""

from collections.abc import Callable

from django.utils.translation import gettext_noop

from tend.core.policy import Actor

from . import churn, jobs, services
from .models import ScoreProfile

STANDARD_NAME = gettext_noop("Standard health")


def install(*, actor_user, on_progress: Callable[[int, int], None] | None = None) -> ScoreProfile:
    """Create (once) the template profile as the active "Standard health" profile and recompute
    every customer. `actor_user` must hold a Service seat."""
    actor = Actor(actor_user)
    profile = ScoreProfile.objects.live().filter(name=STANDARD_NAME).first()
    if profile is None:
        profile = services.profile_create(actor=actor, builtin_name=STANDARD_NAME, from_template=True)
    if profile.active_version_id is None:
        services.profile_activate(actor=actor, profile=profile)
    churn.install_rules()
    jobs.run_full(on_progress=on_progress, notify=False)  # the demo's first scores: no flood of bells
    return profile
