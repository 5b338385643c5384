"""403 / 404 / 500: styled pages in the viewer's language; problem documents under /api/."""

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("translated")]


@pytest.fixture
def failing_urls(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.core.error_urls"


@pytest.fixture
def yuki(csm):
    csm.language, csm.time_zone = "ja", "Asia/Tokyo"
    csm.save(update_fields=["language", "time_zone"])
    client = Client(raise_request_exception=False)
    client.force_login(csm)
    return client


def test_a_missing_page_is_styled_and_in_the_viewers_language(settings, yuki):
    settings.DEBUG = False
    response = yuki.get("/no/such/page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert '<html lang="ja">' in body and 'data-testid="error-404"' in body
    assert "このページは存在しません" in body and "ワークスペースに戻る" in body
    assert "bootstrap.min.css" in body and 'data-testid="user-menu"' in body  # the workspace's layout


def test_a_missing_api_address_answers_problem_json(settings, yuki):
    settings.DEBUG = False
    for path in ("/api/v1/no-such-endpoint", "/api/v2/records"):
        response = yuki.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_a_refusal_is_styled_and_in_the_viewers_language(failing_urls, yuki):
    response = yuki.get("/refuse/")

    body = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="error-403"' in body and "このページを開く権限がありません。" in body


def test_a_server_error_is_a_standalone_page_in_the_viewers_language(failing_urls, yuki):
    response = yuki.get("/boom/")

    body = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="ja">' in body and 'data-testid="error-500"' in body
    assert "問題が発生しました" in body
    assert "user-menu" not in body  # no request context: nothing read from the database


def test_the_server_error_page_itself_reads_nothing_from_the_database(django_assert_num_queries, rf):
    from tend.core.error_pages import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/boom/"))
    assert response.status_code == 500 and 'data-testid="error-500"' in response.content.decode()


def test_a_server_error_under_the_api_is_problem_json(failing_urls, yuki):
    response = yuki.get("/api/v1/boom/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "サーバーエラー"
