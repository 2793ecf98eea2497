"""删除我的信息 leaves none of the user's numbers or name in the database files (issue 13, point 7).

A villager applies (name, phone, ID, and the phone again in the free-text detail), the household
is described, then deleted. While the store is still open, every file of the SQLite database (the
file and its WAL), or the whole PostgreSQL data directory (tables, old row versions, WAL), is
searched byte by byte.
"""

from __future__ import annotations

import random
from pathlib import Path

import psycopg
import pytest

from foundation.privacy import normalize_id_number
from tests.kit.world import World
from tests.store_backends import POSTGRES_URL


def _unique_person() -> tuple[str, str, str]:
    """A name, phone and ID number no other test uses, so what this test finds on disk is what its own
    deletion left, not another test's data on the same server."""
    rng = random.Random()
    name = "欧阳" + "".join(rng.choice("娜婷雪梅兰芳静丽华秀英") for _ in range(2))
    phone = "139" + "".join(rng.choice("0123456789") for _ in range(8))
    body = f"110105{rng.randint(1940, 1990)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return name, phone, next(body + c for c in "0123456789X" if normalize_id_number(body + c))


NAME, PHONE, ID = _unique_person()
APPLY = ["申请纳入监测", "1", NAME, "金墩村", PHONE, ID, "3", "6000", "1", f"老伴住院，有事打{PHONE}", "1"]


def live_through_and_delete(world: World) -> None:
    for line in APPLY:
        world.say("娜", line)
    assert world.store.list_applications()[0].data["phone"] == PHONE
    world.say("娜", "家庭核查")
    world.say("娜", f"我家3口人，我{NAME}56岁种地，老伴58岁住院，女儿读高中，电话{PHONE}")
    world.say("娜", "2")  # 对，保存
    for _ in range(6):  # the follow-up questions, until the check ends and saves
        if world.store.load_profile(*world.person("娜")):
            break
        world.say("娜", "跳过")
    assert world.store.load_profile(*world.person("娜"))
    world.say("娜", "删除我的信息")
    assert "已删除" in world.say("娜", "1")


def found_in(files: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        try:
            data = path.read_bytes()
        except (PermissionError, FileNotFoundError):  # a file PostgreSQL removed meanwhile
            continue
        for secret in (NAME, PHONE, ID):
            if secret.encode() in data:
                found.setdefault(secret, []).append(str(path))
    return found


def test_sqlite_file_and_wal(tmp_path: Path) -> None:
    world = World(f"sqlite:///{tmp_path / 'bot.db'}")
    live_through_and_delete(world)
    files = sorted(tmp_path.glob("bot.db*"))
    assert any(f.name.endswith("-wal") for f in files)  # the WAL is there (empty), not merely gone because the store closed
    assert found_in(files) == {}
    world.close()


@pytest.fixture
def postgres_data_dir() -> Path:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL is not configured (TEST_POSTGRES_URL)")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        # Deployment setting for deletion (docs/privacy.md): old WAL segments are deleted, not kept for reuse.
        conn.execute("ALTER SYSTEM SET wal_recycle = off")
        conn.execute("SELECT pg_reload_conf()")
        data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
    if not (data_dir / "base").exists() or not list(data_dir.glob("base/*")):
        pytest.skip(f"the PostgreSQL data directory {data_dir} cannot be read here")
    return data_dir


def test_postgresql_data_directory(store_url: str, postgres_data_dir: Path) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("the SQLite case is test_sqlite_file_and_wal")
    world = World(store_url)
    live_through_and_delete(world)
    files = [p for p in postgres_data_dir.rglob("*") if p.is_file()]
    assert found_in(files) == {}
    world.close()
