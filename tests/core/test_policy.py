"""The permission matrix: roles × actions × how the request authenticated → allowed or not, and why."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from tend.core.errors import Forbidden
from tend.core.policy import SYSTEM, Action, Actor, Scope, allows, require
from tend.crm.models import ObjectType, PropertyChange, Record
from tend.crm.services import record_create
from tend.directory.models import Team
from tend.directory.services import user_create
from tend.workspace.models import SavedView

U, W, E, S, C, V, M, H, SV, VS, ES, EN, ET, RN, MN = (
    Action.USE_WORKSPACE,
    Action.USE_WORK_TABS,
    Action.EDIT_RECORDS,
    Action.MANAGE_SCHEMA,
    Action.MANAGE_CS_SETTINGS,
    Action.VIEW_AS,
    Action.MANAGE_USERS,
    Action.MANAGE_HEALTH_PROFILES,
    Action.EDIT_SAVED_VIEW,
    Action.VIEW_SHARED,
    Action.EDIT_SHARED,
    Action.EDIT_ENGAGEMENT,
    Action.EDIT_EMAIL_TEMPLATE,
    Action.READ_NOTIFICATIONS,
    Action.MANAGE_NOTIFICATIONS,
)
TARGET_ACTIONS = (SV, VS, ES, EN, ET, RN, MN)
ROLE_ACTIONS = [a for a in Action if a not in TARGET_ACTIONS]  # actions about no object; the others have matrices

# role → what it may do through a browser session (or a read-write token).
ROLES = {
    "anonymous": set(),
    "inactive CSM with seat": set(),
    "user without workspace access": set(),
    "seat without workspace access": set(),
    "workspace user without seat": {U, W},
    "CSM with seat": {U, W, E, H},
    "settings manager without seat": {U, W, S, C, V},
    "settings manager with seat": {U, W, E, S, C, V, H},
    # a super admin without a seat sees the Summary tab, View as and the settings only
    "super admin without seat": {U, S, C, V, M},
    "super admin with seat": {U, W, E, S, C, V, M, H},
}
NO_WORKSPACE = {"anonymous", "inactive CSM with seat", "user without workspace access", "seat without workspace access"}
READS = {U, W, VS, RN}  # what a read-only token may still do

NEEDS_ACCESS = "You need access to the Customer Success workspace."
NEEDS_SEAT = "You need an assigned Service seat to change records."
NEEDS_SETTINGS = "You need the “Manage Customer Success settings” permission."
READ_ONLY = "This API token is read-only."
NEEDS_SEAT_FOR_TABS = (
    "Super admins without an assigned Service seat can use the Summary tab, View as and the settings only. "
    "Ask for a Service seat to work customers, services and revenue."
)
REASONS = {
    U: NEEDS_ACCESS,
    W: NEEDS_SEAT_FOR_TABS,
    E: NEEDS_SEAT,
    S: NEEDS_SETTINGS,
    C: NEEDS_SETTINGS,
    V: NEEDS_SETTINGS,
    M: "Only super admins manage users.",
    H: "You need an assigned Service seat to create or edit health score profiles.",
    SV: (
        "Only its owner changes a private view; views shared with everyone need the "
        "“Manage Customer Success settings” permission."
    ),
    VS: "This is shared with other teams; ask its owner for access.",
    ES: (
        "Only its owner changes a private report or dashboard; shared ones need the "
        "“Manage Customer Success settings” permission."
    ),
    EN: (
        "Only the person who logged it, or someone with the “Manage Customer Success settings” "
        "permission, changes or deletes a note, call or email; changing it also needs a Service seat."
    ),
    ET: (
        "Only its owner changes a private email template; templates shared with everyone need the "
        "“Manage Customer Success settings” permission."
    ),
    RN: "These are another person's notifications.",
    MN: "Only the person notified marks their notifications as read or changes their notification settings.",
}
SYSTEM_ALLOWED = {U, E, EN, S}  # background work reads, writes records and defines properties; nothing else


def reason(role: str, action: Action, scope: Scope) -> str:
    if scope == Scope.READ and action not in READS:
        return READ_ONLY
    if role in NO_WORKSPACE and action in (U, W, E, H, SV, VS, ES, EN, ET, RN, MN):
        return NEEDS_ACCESS  # a seat would not help them
    return REASONS[action]


def make_user(role: str):
    if role == "anonymous":
        return AnonymousUser()
    flags = {
        "inactive CSM with seat": {"has_service_seat": True},
        "user without workspace access": {"cs_workspace_access": False},
        "seat without workspace access": {"cs_workspace_access": False, "has_service_seat": True},
        "workspace user without seat": {},
        "CSM with seat": {"has_service_seat": True},
        "settings manager without seat": {"manage_cs_settings": True},
        "settings manager with seat": {"manage_cs_settings": True, "has_service_seat": True},
        "super admin without seat": {"is_superuser": True},
        "super admin with seat": {"is_superuser": True, "has_service_seat": True},
    }[role]
    user = user_create(email=f"{role.replace(' ', '-')}@example.com", **flags)
    if role.startswith("inactive"):
        user.is_active = False  # there is no deactivation service yet; the flag is all the policy reads
    return user


def expected(role: str, action: Action, scope: Scope) -> bool:
    if scope == Scope.READ and action not in READS:
        return False
    return action in ROLES[role]


MATRIX = [
    pytest.param(role, action, scope, expected(role, action, scope), id=f"{role}-{action}-{scope}")
    for role in ROLES
    for action in ROLE_ACTIONS
    for scope in (Scope.SESSION, Scope.READ, Scope.WRITE)
]


def test_the_matrix_covers_every_action():
    assert set(Action) == {U, W, E, S, C, V, M, H, SV, VS, ES, EN, ET, RN, MN}
    assert set(REASONS) == set(Action)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action", "scope", "allowed"), MATRIX)
def test_permission_matrix(role, action, scope, allowed):
    actor = Actor(make_user(role), scope)

    assert allows(actor, action) is allowed
    if allowed:
        assert require(actor, action) is None
    else:
        with pytest.raises(Forbidden) as excinfo:
            require(actor, action)
        assert str(excinfo.value) == reason(role, action, scope)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", ROLE_ACTIONS)
def test_a_bare_user_acts_through_a_session(role, action):
    user = make_user(role)
    assert allows(user, action) is expected(role, action, Scope.SESSION)


@pytest.mark.parametrize("action", list(Action))
def test_no_user_is_allowed_anything(action):
    assert allows(None, action) is False
    with pytest.raises(Forbidden) as excinfo:
        require(Actor(None), action)
    assert str(excinfo.value) == reason("anonymous", action, Scope.SESSION)


@pytest.mark.parametrize(
    ("scope", "can_write"), [(Scope.SESSION, True), (Scope.READ, False), (Scope.WRITE, True), (Scope.SYSTEM, True)]
)
def test_scopes_that_write(scope, can_write):
    assert Actor(object(), scope).can_write is can_write


# --------------------------------------------------------------------------- a saved view as the target

TARGETS = ("own private view", "someone else's private view", "view shared with everyone", "own shared view", "no view")


def saved_view(target: str, user, other) -> SavedView | None:
    mine, theirs = getattr(user, "pk", None), other.pk
    return {
        "own private view": SavedView(name="Mine", owner_id=mine, visibility=SavedView.Visibility.PRIVATE),
        "someone else's private view": SavedView(
            name="Theirs", owner_id=theirs, visibility=SavedView.Visibility.PRIVATE
        ),
        "view shared with everyone": SavedView(name="All", owner_id=theirs, visibility=SavedView.Visibility.EVERYONE),
        "own shared view": SavedView(name="Mine, shared", owner_id=mine, visibility=SavedView.Visibility.EVERYONE),
        "no view": None,
    }[target]


def expected_for_view(role: str, target: str, scope: Scope) -> bool:
    if scope == Scope.READ or role in NO_WORKSPACE or target == "no view":
        return False
    if target in ("view shared with everyone", "own shared view"):
        return C in ROLES[role]  # shared views belong to settings managers, whoever made them
    return target == "own private view"


VIEW_MATRIX = [
    pytest.param(role, target, scope, expected_for_view(role, target, scope), id=f"{role}-{target}-{scope}")
    for role in ROLES
    for target in TARGETS
    for scope in (Scope.SESSION, Scope.READ, Scope.WRITE)
]


@pytest.mark.django_db
@pytest.mark.parametrize("action", [SV, ET])  # email templates are shared the way saved views are
@pytest.mark.parametrize(("role", "target", "scope", "allowed"), VIEW_MATRIX)
def test_saved_view_matrix(action, role, target, scope, allowed):
    user = make_user(role)
    other = user_create(email="other@example.com", has_service_seat=True)
    actor = Actor(user, scope)
    view = saved_view(target, user, other)

    assert allows(actor, action, view) is allowed
    if allowed:
        assert require(actor, action, view) is None
    else:
        with pytest.raises(Forbidden) as excinfo:
            require(actor, action, view)
        assert str(excinfo.value) == reason(role, action, scope)


# --------------------------------------------------------------------------- a logged note, call or email as the target

ENGAGEMENT_TARGETS = ("own", "someone else's", "nobody's", "none")


def expected_for_engagement(role: str, target: str, scope: Scope) -> bool:
    if scope == Scope.READ or target == "none" or E not in ROLES[role]:
        return False  # changing what was logged needs the seat that logging needs
    return target == "own" or C in ROLES[role]


ENGAGEMENT_MATRIX = [
    pytest.param(role, target, scope, expected_for_engagement(role, target, scope), id=f"{role}-{target}-{scope}")
    for role in ROLES
    for target in ENGAGEMENT_TARGETS
    for scope in (Scope.SESSION, Scope.READ, Scope.WRITE)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "target", "scope", "allowed"), ENGAGEMENT_MATRIX)
def test_logged_engagement_matrix(role, target, scope, allowed):
    user = make_user(role)
    other = user_create(email="other@example.com", has_service_seat=True)
    owner = {"own": getattr(user, "pk", None), "someone else's": other.pk, "nobody's": None}.get(target)
    thing = None if target == "none" else SimpleNamespace(owner_id=owner)

    assert allows(Actor(user, scope), EN, thing) is allowed
    if allowed:
        assert require(Actor(user, scope), EN, thing) is None
    else:
        with pytest.raises(Forbidden) as excinfo:
            require(Actor(user, scope), EN, thing)
        assert str(excinfo.value) == reason(role, EN, scope)


# --------------------------------------------------------------------------- a report or dashboard as the target

SHARED_TARGETS = (
    "own private",
    "someone else's private",
    "shared with everyone",
    "shared with my team",
    "shared with another team",
    "own, shared with another team",
    "none",
)


def shared_target(target: str, user, other, mine: Team, theirs: Team):
    me = getattr(user, "pk", None)
    access, owner, teams = {
        "own private": ("private", me, []),
        "someone else's private": ("private", other.pk, []),
        "shared with everyone": ("everyone", other.pk, []),
        "shared with my team": ("teams", other.pk, [mine.pk]),
        "shared with another team": ("teams", other.pk, [theirs.pk]),
        "own, shared with another team": ("teams", me, [theirs.pk]),
        "none": (None, None, None),
    }[target]
    # Reports and dashboards are duck-typed targets: their access, owner and team ids.
    return None if access is None else SimpleNamespace(access=access, owner_id=owner, team_ids=teams)


def expected_for_shared(action: Action, role: str, target: str, scope: Scope) -> bool:
    if role in NO_WORKSPACE or target == "none" or (scope == Scope.READ and action == ES):
        return False
    if action == VS:
        if target == "shared with another team":
            return C in ROLES[role]  # settings managers administer sharing, so they see every shared one
        return target != "someone else's private"
    if target in ("own private",):
        return True
    return target != "someone else's private" and C in ROLES[role]


SHARED_MATRIX = [
    pytest.param(
        action,
        role,
        target,
        scope,
        expected_for_shared(action, role, target, scope),
        id=f"{action}-{role}-{target}-{scope}",
    )
    for action in (VS, ES)
    for role in ROLES
    for target in SHARED_TARGETS
    for scope in (Scope.SESSION, Scope.READ, Scope.WRITE)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "role", "target", "scope", "allowed"), SHARED_MATRIX)
def test_report_and_dashboard_matrix(action, role, target, scope, allowed):
    user = make_user(role)
    other = user_create(email="other@example.com", has_service_seat=True)
    mine, theirs = Team.objects.create(name="Mine"), Team.objects.create(name="Theirs")
    if getattr(user, "pk", None):
        mine.members.add(user)
    theirs.members.add(other)
    actor = Actor(user, scope)
    thing = shared_target(target, user, other, mine, theirs)

    assert allows(actor, action, thing) is allowed
    if allowed:
        assert require(actor, action, thing) is None
    else:
        with pytest.raises(Forbidden) as excinfo:
            require(actor, action, thing)
        assert str(excinfo.value) == reason(role, action, scope)


# --------------------------------------------------------------------------- the system actor


def test_the_system_actor_is_tend_itself():
    assert Actor.system() is SYSTEM
    assert (SYSTEM.user, SYSTEM.scope, SYSTEM.is_system, SYSTEM.can_write) == (None, Scope.SYSTEM, True, True)
    assert Actor(None).is_system is False  # no user is not the system actor


@pytest.mark.parametrize("action", list(Action))
def test_system_actor_matrix(action):
    allowed = action in SYSTEM_ALLOWED

    assert allows(SYSTEM, action) is allowed
    if allowed:
        assert require(SYSTEM, action) is None
    else:
        with pytest.raises(Forbidden) as excinfo:
            require(SYSTEM, action)
        assert str(excinfo.value) == (
            f"Tend's background work may not {action.value}; a person with the permission must."
        )


@pytest.mark.parametrize("visibility", [SavedView.Visibility.PRIVATE, SavedView.Visibility.EVERYONE])
def test_the_system_actor_edits_no_saved_view(visibility):
    view = SavedView(name="V", owner_id=None, visibility=visibility)
    assert allows(SYSTEM, SV, view) is False
    with pytest.raises(Forbidden):
        require(SYSTEM, SV, view)


@pytest.mark.parametrize("action", list(Action))
def test_no_actor_at_all_is_a_programming_error(action):
    with pytest.raises(TypeError) as excinfo:
        require(None, action)
    assert str(excinfo.value) == "An actor is required; background work acts as policy.SYSTEM."


JSON = "application/json"


def assert_problem_403(response):
    assert response.status_code == 403, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 403
    assert body["title"] == "Forbidden"
    return body


@pytest.mark.django_db
class TestApiEnforcesThePolicy:
    def test_a_read_only_token_cannot_create(self, csm, api_client_for):
        client = api_client_for(csm, write=False)

        response = client.post("/api/v1/objects/companies", {"properties": {"name": "Acme"}}, content_type=JSON)

        assert assert_problem_403(response)["detail"] == READ_ONLY
        assert Record.objects.count() == 0
        assert PropertyChange.objects.count() == 0

    def test_a_read_only_token_still_reads(self, csm, api_client_for):
        response = api_client_for(csm, write=False).get("/api/v1/objects/companies")
        assert response.status_code == 200, response.content

    def test_a_viewer_without_seat_cannot_update(self, viewer, api_client_for):
        companies = ObjectType.objects.get(name="companies")
        record = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme", "nps": 7})
        history_before = PropertyChange.objects.count()
        client = api_client_for(viewer, write=True)

        response = client.patch(f"/api/v1/objects/companies/{record.pk}", {"properties": {"nps": 9}}, content_type=JSON)

        assert assert_problem_403(response)["detail"] == NEEDS_SEAT
        record.refresh_from_db()
        assert record.properties == {"nps": 7}
        assert PropertyChange.objects.count() == history_before

    def test_the_same_viewer_may_read_the_record(self, viewer, api_client_for):
        companies = ObjectType.objects.get(name="companies")
        record = record_create(actor=SYSTEM, object_type=companies, properties={"name": "Acme"})
        response = api_client_for(viewer, write=True).get(f"/api/v1/objects/companies/{record.pk}")
        assert response.status_code == 200, response.content
