import pytest
from django.test import Client

from tend.core.policy import Actor, Scope
from tend.crm.models import ObjectType
from tend.directory.services import token_create, user_create
from tests.smtp import smtp_server  # noqa: F401  (a live SMTP server, for tests that send email)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users need no production-strength (deliberately slow) password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def csm(db):
    """A CSM with workspace access and a Service seat."""
    return user_create(email="csm@example.com", password="pw-123456789", full_name="Casey CSM", has_service_seat=True)


@pytest.fixture
def viewer(db):
    """Workspace access, no Service seat: may read, may not change records."""
    return user_create(email="viewer@example.com", password="pw-123456789", full_name="Vic Viewer")


@pytest.fixture
def admin(db):
    return user_create(
        email="admin@example.com",
        password="pw-123456789",
        full_name="Ada Admin",
        is_superuser=True,
        has_service_seat=True,
    )


@pytest.fixture
def companies(db):
    return ObjectType.objects.get(name="companies")


@pytest.fixture
def contacts(db):
    return ObjectType.objects.get(name="contacts")


def _api_client(user, write=True):
    _token, key = token_create(user=user, name="tests", write=write)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def api(csm):
    """An API client authenticated with a read-write token of the CSM."""
    return _api_client(csm)


@pytest.fixture
def admin_api(admin):
    return _api_client(admin)


@pytest.fixture
def api_client_for():
    return _api_client


@pytest.fixture
def csm_actor(csm):
    return Actor(csm, Scope.SESSION)


@pytest.fixture
def admin_actor(admin):
    return Actor(admin, Scope.SESSION)


@pytest.fixture(scope="session")
def _compiled_catalogs(tmp_path_factory):
    """The committed catalogs compiled once (the .mo files are build output, not in git)."""
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    source = Path(__file__).resolve().parent.parent / "tend" / "locale"
    target = tmp_path_factory.mktemp("locale")
    for po in source.glob("*/LC_MESSAGES/django.po"):
        out = target / po.relative_to(source).with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["msgfmt", "-o", str(out), str(po)], check=True)
    return target


@pytest.fixture
def translated(settings, _compiled_catalogs):
    """Tend's own translations (ja, de, it) active for the test, whether or not `make setup` ran."""
    settings.LOCALE_PATHS = [_compiled_catalogs]
