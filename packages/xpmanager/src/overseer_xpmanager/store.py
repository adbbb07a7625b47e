"""The XP store: one folder per experiment, named by its signature.

::

    <root>/xps/<sig>/argv.json     what defines the XP: argv, delta, whole config, rule
    <root>/xps/<sig>/meta.json     alias, creation time, backend, package
    <root>/xps/<sig>/events.jsonl  the run's event stream, appended
    <root>/xps/<sig>/history.jsonl one pushed metrics dict per line
    <root>/xps/<sig>/job.json      the latest job
    <root>/aliases/<alias>         a link to ../xps/<sig> (an index, rebuilt from meta.json)
    <root>/grids/<grid>/<sig>      links to the XPs a grid launched

Asking for the same XP twice gives the same folder; asking for a different XP whose
signature is taken is a :class:`~overseer_xpmanager.errors.SignatureCollision`::

    store = Store(Path("outputs"))
    xp = store.ensure(
        XPDefinition(
            argv=["--lr=0.1"],
            delta={"lr": 0.1},
            config={"lr": 0.1, "epochs": 5},
            backend="argparse",
            package="myproject",
        )
    )
    store.find(xp.alias).sig == xp.sig  # True; "-1", a sig prefix or a glob work too
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .aliases import alias_for
from .errors import AmbiguousSelector, SignatureCollision, StoreError, XPNotFound
from .job import JobRecord, read_job, write_job, write_json_atomically
from .link import Link
from .signature import SIGNATURE_LENGTH, SIGNATURE_RULE, canonical, signature

__all__ = ["XP", "Store", "XPDefinition", "parse_drift"]

_LATEST = re.compile(r"-(\d+)")
_SIG_PREFIX = re.compile(r"[0-9a-f]{4,12}")
_GLOB_CHARACTERS = frozenset("*?[")
#: What an XP folder keeps through ``--clear``: its definition, its name, its lock.
_DEFINING_FILES = frozenset({"argv.json", "meta.json", ".lock"})


@dataclass(frozen=True)
class XPDefinition:
    """What defines an XP, before it has a folder.

    Attributes:
        argv: the command-line arguments that give this configuration.
        delta: the canonical values that differ from the defaults (the signature's source).
        config: the whole configuration, flat, canonical.
        backend: ``"argparse"`` or ``"hydra"``.
        package: the project package whose ``train`` module runs it.
    """

    argv: list[str]
    delta: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    backend: str = "argparse"
    package: str = ""

    @property
    def sig(self) -> str:
        """The signature of :attr:`delta`."""
        return signature(self.delta)


class XP:
    """One experiment of a store: its folder, its definition, its job and its metrics.

    Attributes:
        sig: the signature, also the folder's name.
        folder: ``<root>/xps/<sig>``; checkpoints written relative to it survive requeues.
        store: the store holding it.
        cfg: the parsed arguments (``argparse.Namespace``) or hydra config, set by the main
            that runs it; None elsewhere.
        link: pushes and reads the metrics history.
    """

    def __init__(self, store: Store, sig: str) -> None:
        self.store = store
        self.sig = sig
        self.folder = store.xps_folder / sig
        self.cfg: Any = None
        self.link = Link(self.folder)
        self._definition: dict[str, Any] | None = None
        self._meta: dict[str, Any] | None = None

    def _argv_json(self) -> dict[str, Any]:
        if self._definition is None:
            self._definition = _read_object(self.folder / "argv.json")
        return self._definition

    def _meta_json(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = _read_object(self.folder / "meta.json")
        return self._meta

    @property
    def argv(self) -> list[str]:
        """The command-line arguments that define the XP."""
        return list(self._argv_json().get("argv", []))

    @property
    def delta(self) -> dict[str, Any]:
        """The arguments that differ from the defaults, canonical."""
        return dict(self._argv_json().get("delta", {}))

    @property
    def config(self) -> dict[str, Any]:
        """The whole configuration when the XP was made, flat and canonical."""
        return dict(self._argv_json().get("config", {}))

    @property
    def backend(self) -> str:
        """``"argparse"`` or ``"hydra"``."""
        return str(self._argv_json().get("backend", "argparse"))

    @property
    def package(self) -> str:
        """The project package that runs it."""
        return str(self._argv_json().get("package", ""))

    @property
    def alias(self) -> str:
        """The XP's two-word name."""
        return str(self._meta_json().get("alias", self.sig))

    @property
    def created(self) -> float:
        """When the XP was first asked for (seconds since the epoch)."""
        return float(self._meta_json().get("created", 0.0))

    @property
    def events_path(self) -> Path:
        """The run's event stream (runner entries, one per line)."""
        return self.folder / "events.jsonl"

    @property
    def history_path(self) -> Path:
        """One pushed metrics dict per line."""
        return self.link.path

    @property
    def log_path(self) -> Path:
        """Standard output and error of every attempt."""
        return self.folder / "output.log"

    @property
    def submitit_folder(self) -> Path:
        """submitit's own files for this XP's Slurm jobs."""
        return self.folder / "submitit"

    def job(self) -> JobRecord | None:
        """The latest job, or None when the XP was never scheduled."""
        return read_job(self.folder)

    def write_job(self, record: JobRecord) -> None:
        """Record ``record`` as the latest job."""
        write_job(self.folder, record)

    def clear_runs(self) -> int:
        """Remove what runs wrote (history, events, logs, checkpoints, job); keep what defines it.

        Returns:
            How many files and folders were removed.
        """
        removed = 0
        for path in self.folder.iterdir():
            if path.name in _DEFINING_FILES:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
        return removed

    @contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the XP's lock (``fcntl.flock`` on ``.lock``): one scheduler at a time.

        Raises:
            StoreError: another process held it for longer than ``timeout`` seconds.
        """
        with _flock(self.folder / ".lock", timeout, f"XP {self.sig}"):
            yield

    def __repr__(self) -> str:
        return f"XP(sig={self.sig!r}, alias={self.alias!r}, folder={str(self.folder)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XP) and (other.sig, other.folder) == (self.sig, self.folder)

    def __hash__(self) -> int:
        return hash((self.sig, self.folder))


class Store:
    """A folder of XPs (see the module's docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        self.xps_folder = self.root / "xps"
        self.aliases_folder = self.root / "aliases"
        self._writable = False

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def check_writable(self) -> None:
        """Raise :class:`StoreError` unless XPs can be made under the root."""
        if self._writable:
            return
        try:
            self.xps_folder.mkdir(parents=True, exist_ok=True)
            probe = self.xps_folder / f".probe-{os.getpid()}-{threading.get_ident()}"
            probe.touch()
            probe.unlink()
        except OSError as error:
            message = (
                f"store folder {self.root} is not writable ({error.strerror}): fix its "
                "permissions, or point OVERSEER_XP_DIR or the main's dir= elsewhere"
            )
            raise StoreError(message) from error
        self._writable = True

    def ensure(self, definition: XPDefinition, *, accept_drift: bool = False) -> XP:
        """The XP ``definition`` describes, made on first use.

        Args:
            definition: what defines the XP.
            accept_drift: rewrite the stored configuration when the project's defaults
                changed since the XP was made, instead of raising.

        Raises:
            SignatureCollision: another definition already holds this signature.
            StoreError: the defaults changed since the XP was made (the message shows how),
                or the store is not writable.
        """
        xp = XP(self, definition.sig)
        if (xp.folder / "argv.json").exists():
            _check_same(xp, definition, accept_drift)
            return xp
        self.check_writable()
        xp.folder.mkdir(exist_ok=True)
        with xp.lock(timeout=30):
            if (xp.folder / "argv.json").exists():
                _check_same(xp, definition, accept_drift)
                return xp
            self._create(xp, definition)
        xp._meta = xp._definition = None
        return xp

    def _create(self, xp: XP, definition: XPDefinition) -> None:
        alias = self._claim_alias(xp.sig)
        meta = {
            "alias": alias,
            "created": time.time(),
            "backend": definition.backend,
            "package": definition.package,
        }
        write_json_atomically(xp.folder / "meta.json", meta)
        # argv.json last: its presence is what says the XP exists.
        write_json_atomically(xp.folder / "argv.json", _argv_document(definition))

    def _claim_alias(self, sig: str) -> str:
        self.aliases_folder.mkdir(exist_ok=True)
        target = Path("..") / "xps" / sig

        def is_taken(alias: str) -> bool:
            link = self.aliases_folder / alias
            try:
                os.symlink(target, link)
            except FileExistsError:
                return os.readlink(link) != str(target)
            return False

        return alias_for(sig, is_taken)

    def load(self, sig: str) -> XP:
        """The XP named ``sig``.

        Raises:
            XPNotFound: the store has no XP of that signature.
        """
        xp = XP(self, sig)
        if not (xp.folder / "argv.json").is_file():
            message = f"no XP {sig!r} in store {self.root}: `suite xp info` lists the XPs"
            raise XPNotFound(message)
        return xp

    def sigs(self) -> list[str]:
        """The signatures of every XP, in no particular order."""
        try:
            names = os.listdir(self.xps_folder)
        except FileNotFoundError:
            return []
        return [name for name in names if (self.xps_folder / name / "argv.json").is_file()]

    def xps(self) -> list[XP]:
        """Every XP, oldest first."""
        return sorted((XP(self, sig) for sig in self.sigs()), key=lambda xp: xp.created)

    def find(self, selector: str) -> XP:
        """The one XP ``selector`` names.

        A selector is a signature, a signature prefix of 4 digits or more, an alias, a glob
        on aliases and signatures (``*-funds``), or ``-1`` for the latest XP, ``-2`` for the
        one before.

        Raises:
            XPNotFound: nothing matches.
            AmbiguousSelector: several XPs match.
        """
        matches = self.select(selector)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            message = (
                f"no XP matches {selector!r} in store {self.root}: give a signature, an alias, "
                "a glob such as '*-funds' or -1 for the latest"
            )
            raise XPNotFound(message)
        shown = ", ".join(f"{xp.sig} ({xp.alias})" for xp in matches[:5])
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        message = f"{selector!r} matches {len(matches)} XPs: {shown}{more}; give more of it"
        raise AmbiguousSelector(message)

    def select(self, selector: str) -> list[XP]:
        """Every XP ``selector`` names (see :meth:`find`), oldest first."""
        latest = _LATEST.fullmatch(selector)
        if latest:
            return self._latest(int(latest.group(1)))
        if (
            len(selector) == SIGNATURE_LENGTH
            and (self.xps_folder / selector / "argv.json").is_file()
        ):
            return [XP(self, selector)]
        alias_link = self.aliases_folder / selector
        if "/" not in selector and selector and os.path.islink(alias_link):
            return [XP(self, Path(os.readlink(alias_link)).name)]
        if _GLOB_CHARACTERS & set(selector):
            return [
                xp
                for xp in self.xps()
                if fnmatchcase(xp.alias, selector) or fnmatchcase(xp.sig, selector)
            ]
        if _SIG_PREFIX.fullmatch(selector):
            return [XP(self, sig) for sig in sorted(self.sigs()) if sig.startswith(selector)]
        return []

    def _latest(self, rank: int) -> list[XP]:
        # meta.json is written once, when the XP is made: its time orders XPs by creation
        # without reading 10,000 files.
        stamped = []
        for sig in self.sigs():
            try:
                stamped.append(((self.xps_folder / sig / "meta.json").stat().st_mtime, sig))
            except FileNotFoundError:
                continue
        stamped.sort()
        return [XP(self, stamped[-rank][1])] if 0 < rank <= len(stamped) else []

    def grid_folder(self, name: str) -> Path:
        """``<root>/grids/<name>``, where a grid's links live."""
        return self.root / "grids" / name

    def link_to_grid(self, grid: str, xp: XP) -> None:
        """Record that grid ``grid`` holds ``xp``."""
        folder = self.grid_folder(grid)
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / xp.sig
        if not os.path.islink(link):
            os.symlink(Path("..") / ".." / "xps" / xp.sig, link)

    def grid_sigs(self, grid: str) -> list[str]:
        """The signatures linked to grid ``grid``."""
        try:
            return sorted(os.listdir(self.grid_folder(grid)))
        except FileNotFoundError:
            return []

    def unlink_from_grid(self, grid: str, sig: str) -> None:
        """Forget that grid ``grid`` holds XP ``sig`` (the XP itself stays)."""
        (self.grid_folder(grid) / sig).unlink(missing_ok=True)


def _argv_document(definition: XPDefinition) -> dict[str, Any]:
    return {
        "rule": SIGNATURE_RULE,
        "argv": list(definition.argv),
        "delta": canonical(definition.delta),
        "config": canonical(definition.config),
        "backend": definition.backend,
        "package": definition.package,
    }


def parse_drift(stored: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The keys whose stored value differs from the current one: ``{key: (old, new)}``."""
    keys = sorted(stored.keys() | current.keys())
    missing = "<missing>"
    return {
        key: (stored.get(key, missing), current.get(key, missing))
        for key in keys
        if stored.get(key, missing) != current.get(key, missing)
    }


def _check_same(xp: XP, definition: XPDefinition, accept_drift: bool) -> None:
    stored = xp._argv_json()
    package = stored.get("package")
    if definition.package and package and package != definition.package:
        message = (
            f"signature {xp.sig} of store {xp.store.root} holds an XP of package {package!r}, "
            f"not {definition.package!r}: give each project a store of its own (dir=)"
        )
        raise SignatureCollision(message)
    if stored.get("delta") != canonical(definition.delta):
        message = (
            f"signature {xp.sig} already names another XP ({xp.folder / 'argv.json'} holds "
            f"{stored.get('delta')}, asked for {canonical(definition.delta)}): add an argument "
            "that tells them apart"
        )
        raise SignatureCollision(message)
    drift = parse_drift(stored.get("config", {}), canonical(definition.config))
    if not drift or not definition.config:
        return
    if accept_drift:
        write_json_atomically(xp.folder / "argv.json", _argv_document(definition))
        xp._definition = None
        return
    changes = ", ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in drift.items())
    message = (
        f"the defaults changed since XP {xp.sig} ({xp.alias}) was made ({changes}): pass the "
        "old values as arguments to run the old configuration as a new XP, or --clear to "
        "restart this one under the new defaults"
    )
    raise StoreError(message)


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as error:
        message = f"{path} is not valid JSON ({error}); restore it or remove the XP folder"
        raise StoreError(message) from error
    if not isinstance(data, dict):
        message = f"{path} holds {type(data).__name__}, not an object; remove the XP folder"
        raise StoreError(message)
    return data


@contextmanager
def _flock(path: Path, timeout: float | None, what: str) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    message = (
                        f"{what} is locked by another command for over {timeout:g} s: wait "
                        f"for it to end, or remove {path} if no command is running"
                    )
                    raise StoreError(message) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
