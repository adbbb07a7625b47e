"""The XP store: one folder per signature, lookups, collisions, drift, locks."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from overseer_xpmanager.errors import AmbiguousSelector, SignatureCollision, StoreError, XPNotFound
from overseer_xpmanager.store import Store, XPDefinition


def definition(lr: float, epochs: int = 5, **config: object) -> XPDefinition:
    delta = {"lr": lr} if lr != 0.1 else {}
    return XPDefinition(
        argv=[f"--lr={lr}"],
        delta=delta,
        config={"lr": lr, "epochs": epochs, **config},
        package="proj",
    )


def test_the_same_xp_asked_twice_is_one_folder(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.ensure(definition(0.01))
    again = store.ensure(definition(0.01))
    assert first == again
    assert first.folder == tmp_path / "xps" / first.sig
    assert first.argv == ["--lr=0.01"]
    assert first.delta == {"lr": 0.01}
    assert first.config == {"lr": 0.01, "epochs": 5}
    assert first.package == "proj"
    assert len(store.sigs()) == 1


def test_every_xp_gets_a_distinct_alias(tmp_path: Path) -> None:
    store = Store(tmp_path)
    xps = [store.ensure(definition(lr / 1000)) for lr in range(1, 40)]
    aliases = {xp.alias for xp in xps}
    assert len(aliases) == len(xps)
    assert all(alias.count("-") == 1 for alias in aliases)


def test_find_by_signature_prefix_alias_glob_and_latest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    old = store.ensure(definition(0.01))
    time.sleep(0.01)
    new = store.ensure(definition(0.02))
    assert store.find(new.sig) == new
    assert store.find(old.sig[:6]) == old
    assert store.find(old.alias) == old
    assert store.find("?" + new.alias[1:]) == new
    assert store.find(new.alias.split("-")[0] + "-*") in (new, old)
    assert store.find("-1") == new
    assert store.find("-2") == old


def test_lookups_that_fail_say_so_in_one_line(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ensure(definition(0.01))
    store.ensure(definition(0.02))
    with pytest.raises(XPNotFound, match="no XP matches 'nothing-here'") as missing:
        store.find("nothing-here")
    with pytest.raises(AmbiguousSelector, match="matches 2 XPs") as ambiguous:
        store.find("*")
    with pytest.raises(XPNotFound):
        store.find("-3")
    assert "\n" not in str(missing.value) + str(ambiguous.value)


def test_a_collision_is_an_error_not_a_merge(tmp_path: Path) -> None:
    store = Store(tmp_path)
    xp = store.ensure(definition(0.01))
    # Forge another definition under the same signature, as a hash collision would.
    stored = (xp.folder / "argv.json").read_text().replace('"lr": 0.01', '"lr": 0.5')
    (xp.folder / "argv.json").write_text(stored)
    with pytest.raises(SignatureCollision, match=f"signature {xp.sig} already names another XP"):
        store.ensure(definition(0.01))


def test_changed_defaults_are_reported_not_followed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    xp = store.ensure(definition(0.01, epochs=5))
    with pytest.raises(StoreError, match=r"defaults changed .*epochs: 5 -> 7"):
        store.ensure(definition(0.01, epochs=7))
    store.ensure(definition(0.01, epochs=7), accept_drift=True)
    assert store.load(xp.sig).config["epochs"] == 7


def test_an_unwritable_store_is_a_one_line_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through permissions: a file where the folder should be blocks it too.
        (tmp_path / "store").write_text("")
        store = Store(tmp_path / "store")
    else:
        (tmp_path / "store").mkdir(mode=0o500)
        store = Store(tmp_path / "store")
    with pytest.raises(StoreError, match="is not writable"):
        store.ensure(definition(0.01))
    assert not (tmp_path / "store" / "xps").exists()


def test_a_broken_argv_json_is_named(tmp_path: Path) -> None:
    store = Store(tmp_path)
    xp = store.ensure(definition(0.01))
    (xp.folder / "argv.json").write_text("{")
    with pytest.raises(StoreError, match=r"argv\.json is not valid JSON"):
        _ = store.load(xp.sig).argv


def _hold_lock(
    root: str,
    sig: str,
    ready: multiprocessing.synchronize.Event,
    release: multiprocessing.synchronize.Event,
) -> None:
    with Store(root).load(sig).lock():
        ready.set()
        release.wait(60)


def test_the_xp_lock_excludes_other_processes(tmp_path: Path) -> None:
    xp = Store(tmp_path).ensure(definition(0.01))
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), xp.sig, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        # Held until this test lets it go, not for a while: a slow machine cannot see it free.
        with pytest.raises(StoreError, match="is locked by another command"), xp.lock(timeout=0.1):
            pass
    finally:
        release.set()
        holder.join(60)
    with xp.lock(timeout=5):
        pass


def test_concurrent_creation_makes_one_xp(tmp_path: Path) -> None:
    store = Store(tmp_path)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.ensure(definition(0.03)).alias))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert len(store.sigs()) == 1
    assert len(os.listdir(tmp_path / "aliases")) == 1


def test_grids_link_to_their_xps(tmp_path: Path) -> None:
    store = Store(tmp_path)
    xp = store.ensure(definition(0.01))
    store.link_to_grid("sweep", xp)
    store.link_to_grid("sweep", xp)
    assert store.grid_sigs("sweep") == [xp.sig]
    assert (store.grid_folder("sweep") / xp.sig / "argv.json").is_file()
    store.unlink_from_grid("sweep", xp.sig)
    assert store.grid_sigs("sweep") == []
    assert xp.folder.is_dir()
