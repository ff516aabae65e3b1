"""Import tests keep their files in a temporary RENKEI_IMPORT_DIR."""

from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

MEISHI_HEADER = "会社名,部署名,役職,氏名,氏名(カナ),メールアドレス,電話番号,住所,名刺交換日"


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English (the UI's Japanese is in the catalogue)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _import_dir(settings: Any, tmp_path: Path) -> Path:
    settings.RENKEI_IMPORT_DIR = tmp_path / "imports"
    return settings.RENKEI_IMPORT_DIR


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
