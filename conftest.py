"""Shared fixtures: one named user per role, and API clients with their tokens."""

import os
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from renkei.accounts.roles import ADMIN, MANAGER, MARKETING, SALES, VIEWER
from renkei.accounts.services import api_token_create, user_set_role

PASSWORD = "renkei-test-pass-1"  # noqa: S105


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Real hashing costs ~0.5 s per user; tests do not test the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Public rate limits count in the cache: each test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _own_backtest_dir(settings: Any, tmp_path: Any) -> Any:
    """Each test builds its event columns and backtest snapshots in its own directory,
    read afresh."""
    from renkei.scoring import backtest, columns

    settings.RENKEI_BACKTEST_DIR = tmp_path / "backtest"
    backtest._cache.clear()
    columns._loaded.clear()
    yield settings.RENKEI_BACKTEST_DIR
    backtest._cache.clear()
    columns._loaded.clear()


def _user(username: str, role: str, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    user_set_role(user=user, role=role, actor=None)
    return user


@pytest.fixture
def admin_user(db: Any) -> User:
    return _user("admin", ADMIN, is_staff=True, is_superuser=True, email="admin@example.jp")


@pytest.fixture
def manager(db: Any) -> User:
    return _user("manager", MANAGER, first_name="部長", email="manager@example.jp")


@pytest.fixture
def marketer(db: Any) -> User:
    return _user("marketer", MARKETING, email="marketer@example.jp")


@pytest.fixture
def sales_rep(db: Any) -> User:
    return _user("sales1", SALES, email="sales1@example.jp")


@pytest.fixture
def sales_rep2(db: Any) -> User:
    return _user("sales2", SALES, email="sales2@example.jp")


@pytest.fixture
def viewer(db: Any) -> User:
    return _user("viewer", VIEWER, email="viewer@example.jp")


class ApiClient(Client):
    """A test client that sends a bearer token and JSON bodies."""

    def __init__(self, token: str, **kwargs: Any) -> None:
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)

    def post_json(self, path: str, data: Any) -> Any:
        return self.post(path, data=data, content_type="application/json")

    def patch_json(self, path: str, data: Any) -> Any:
        return self.patch(path, data=data, content_type="application/json")


def api_client_for(user: User) -> ApiClient:
    _, secret = api_token_create(user=user, name="test")
    return ApiClient(secret)


@pytest.fixture
def marketer_api(marketer: User) -> ApiClient:
    return api_client_for(marketer)


@pytest.fixture
def manager_api(manager: User) -> ApiClient:
    return api_client_for(manager)


@pytest.fixture
def sales_api(sales_rep: User) -> ApiClient:
    return api_client_for(sales_rep)


@pytest.fixture
def viewer_api(viewer: User) -> ApiClient:
    return api_client_for(viewer)


def pytest_report_header(config: Any) -> str:
    from django.conf import settings

    return f"renkei database: {settings.DATABASES['default']['ENGINE']}" + (
        " (DATABASE_URL set)" if os.environ.get("DATABASE_URL") else " (embedded SQLite)"
    )


CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Browser tests need Debian's chromium. Outside CI, say clearly why they are skipped;
    under CI=true they run and fail if it is missing (.ci/run installs it)."""
    if os.path.exists(CHROMIUM) or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk "
        "to run the browser tests"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Remove the SQLite writers' lock file next to this process's test database."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and os.path.exists(f"{name}-writers"):
        os.remove(f"{name}-writers")
