"""The permission matrix: roles × actions × how the request authenticated → allowed or not, and why."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tend.core.errors import Forbidden
from tend.core.policy import Action, Actor, Scope, allows, require
from tend.crm.models import ObjectType, PropertyChange, Record
from tend.crm.services import record_create
from tend.directory.services import user_create

U, W, E, S, C, V, M, H = (
    Action.USE_WORKSPACE,
    Action.USE_WORK_TABS,
    Action.EDIT_RECORDS,
    Action.MANAGE_SCHEMA,
    Action.MANAGE_CS_SETTINGS,
    Action.VIEW_AS,
    Action.MANAGE_USERS,
    Action.MANAGE_HEALTH_PROFILES,
)

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
READS = {U, W}  # what a read-only token may still do

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
}


def reason(role: str, action: Action, scope: Scope) -> str:
    if scope == Scope.READ and action not in READS:
        return READ_ONLY
    if role in NO_WORKSPACE and action in (U, W, E, H):
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
    for action in Action
    for scope in Scope
]


def test_the_matrix_covers_every_action():
    assert set(Action) == {U, W, E, S, C, V, M, H}
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
@pytest.mark.parametrize("action", list(Action))
def test_a_bare_user_acts_through_a_session(role, action):
    user = make_user(role)
    assert allows(user, action) is expected(role, action, Scope.SESSION)


@pytest.mark.parametrize("action", list(Action))
def test_no_user_is_allowed_anything(action):
    assert allows(None, action) is False
    with pytest.raises(Forbidden) as excinfo:
        require(Actor(None), action)
    assert str(excinfo.value) == reason("anonymous", action, Scope.SESSION)


@pytest.mark.parametrize(("scope", "can_write"), [(Scope.SESSION, True), (Scope.READ, False), (Scope.WRITE, True)])
def test_scopes_that_write(scope, can_write):
    assert Actor(object(), scope).can_write is can_write


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
        record = record_create(actor=None, object_type=companies, properties={"name": "Acme", "nps": 7})
        history_before = PropertyChange.objects.count()
        client = api_client_for(viewer, write=True)

        response = client.patch(f"/api/v1/objects/companies/{record.pk}", {"properties": {"nps": 9}}, content_type=JSON)

        assert assert_problem_403(response)["detail"] == NEEDS_SEAT
        record.refresh_from_db()
        assert record.properties == {"nps": 7}
        assert PropertyChange.objects.count() == history_before

    def test_the_same_viewer_may_read_the_record(self, viewer, api_client_for):
        companies = ObjectType.objects.get(name="companies")
        record = record_create(actor=None, object_type=companies, properties={"name": "Acme"})
        response = api_client_for(viewer, write=True).get(f"/api/v1/objects/companies/{record.pk}")
        assert response.status_code == 200, response.content
