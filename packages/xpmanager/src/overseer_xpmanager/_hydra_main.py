"""The decorated main of a hydra project: its overrides define an XP.

::

    # myproject/train.py, with myproject/conf/config.yaml and myproject/conf/model/*.yaml
    from overseer_xpmanager import get_xp, hydra_main


    @hydra_main(config_path="conf", config_name="config")
    def main(cfg):
        xp = get_xp()  # xp.cfg is cfg
        ...

The configuration may hold a ``dora:`` (or ``xp:``) section with ``dir`` (the store's root,
relative to the current directory) and ``exclude`` (patterns of keys left out of the
signature); that section and ``slurm:`` are never part of the signature. The signature is
computed on the composed configuration against the composed defaults, so ``model=small`` when
small is the default, or ``lr=1`` for ``lr: 1.0``, names the same XP.

A grid composes once per distinct set of group choices (``model=large``); plain value
overrides (``lr=0.01``) are applied to a copy of that composition, a millisecond or so each.
The run composes once for real, with hydra's own configuration, whose run directory is the
XP's folder (and the working directory when ``hydra.job.chdir`` is true).
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._hydra_overrides import (
    has_key,
    is_hydra_key,
    needs_composition,
    override_value,
    parse_override,
)
from .errors import ArgumentError
from .main import DecoratedMain
from .signature import config_delta, flatten
from .store import XP, XPDefinition

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override
    from omegaconf import DictConfig

__all__ = ["HydraMain", "hydra_main"]

#: Sections of the configuration that configure the XP manager, not the XP.
SETTINGS_SECTIONS = ("xp", "dora", "slurm")


class HydraMain(DecoratedMain):
    """A main whose configuration hydra composes (see :func:`hydra_main`)."""

    backend = "hydra"

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        config_path: str,
        config_name: str,
        version_base: str | None = None,
    ) -> None:
        super().__init__(function)
        module_file = getattr(sys.modules.get(function.__module__), "__file__", None)
        base = Path(module_file).parent if module_file else Path.cwd()
        self.config_dir = (base / config_path).resolve()
        self.config_name = config_name
        self.version_base = version_base
        self._groups: frozenset[str] | None = None
        self._composed: dict[tuple[str, ...], DictConfig] = {}
        self._defaults: dict[str, Any] = {}
        self._hydra_config: DictConfig | None = None
        self._settings_found: dict[str, Any] | None = None

    @property
    def dir(self) -> Path:
        """``dir`` of the configuration's ``xp:`` or ``dora:`` section (``./outputs`` if none)."""
        written = _written_dir(self.config_dir / f"{self.config_name}.yaml")
        if written is not None:
            return Path(written)
        return Path(str(self._settings().get("dir", "./outputs")))

    @property
    def executor(self) -> str | None:
        """``executor`` of the configuration's ``xp:`` or ``dora:`` section, if it has one."""
        found = self._settings().get("executor")
        return None if found is None else str(found)

    @property
    def exclude(self) -> list[str]:
        """The section's ``exclude`` patterns, and the settings sections themselves."""
        patterns = [str(pattern) for pattern in self._settings().get("exclude") or []]
        return [*patterns, *SETTINGS_SECTIONS, *(f"{name}.*" for name in SETTINGS_SECTIONS)]

    def _settings(self) -> dict[str, Any]:
        if self._settings_found is None:
            from omegaconf import OmegaConf

            base = self._base(())
            sections = [base.get(name) for name in ("xp", "dora")]
            found: Any = next((section for section in sections if section is not None), None)
            container = {} if found is None else OmegaConf.to_container(found, resolve=True)
            self._settings_found = _container(container)
        return self._settings_found

    @contextmanager
    def _context(self) -> Iterator[None]:
        from hydra import initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra

        previous = GlobalHydra.instance().hydra
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(
                config_dir=str(self.config_dir),
                job_name=self.module.rpartition(".")[2],
                version_base=self.version_base,
            ):
                yield
        finally:
            GlobalHydra.instance().hydra = previous

    def _compose(self, overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
        from hydra import compose
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        try:
            return compose(self.config_name, overrides, return_hydra_config=with_hydra)
        except (HydraException, OmegaConfBaseException) as error:
            # Hydra's messages span lines and end with the search path: keep the first part.
            reason = " ".join(str(error).split()).split(" Config search path:")[0]
            raise ArgumentError(f"{' '.join(overrides)}: {reason}") from None

    def _base(self, group_overrides: tuple[str, ...]) -> DictConfig:
        composed = self._composed.get(group_overrides)
        if composed is None:
            with self._context():
                if self._groups is None:
                    self._load_groups()
                composed = self._compose(list(group_overrides))
            self._composed[group_overrides] = composed
        return composed

    def _load_groups(self) -> None:
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import OmegaConf

        hydra = GlobalHydra.instance().hydra
        self._groups = frozenset(hydra.list_all_config_groups() if hydra else ())
        base = self._compose([])
        self._composed[()] = base
        self._defaults = flatten(_container(OmegaConf.to_container(base)))

    def _resolve(self, argv: Sequence[str]) -> tuple[DictConfig, XPDefinition]:
        argv = [str(item) for item in argv]
        overrides = self._parse(argv)
        if any(needs_composition(override) for override in overrides):
            with self._context():
                config = self._compose(argv)
        else:
            config = copy.deepcopy(self._base(self._group_overrides(overrides)))
            for override in overrides:
                if not (is_hydra_key(override.key_or_group) or self._is_group(override)):
                    self._change(config, override)
        return config, self._definition(argv, config)

    def _resolve_for_run(self, argv: Sequence[str]) -> tuple[DictConfig, XPDefinition]:
        from omegaconf import open_dict

        argv = [str(item) for item in argv]
        self._resolve(argv)  # the same checks and messages as a grid's
        full = self._compose(argv, with_hydra=True)
        config = copy.deepcopy(full)
        with open_dict(config):
            del config["hydra"]
        self._hydra_config = full
        return config, self._definition(argv, config)

    def _definition(self, argv: list[str], config: DictConfig) -> XPDefinition:
        from omegaconf import OmegaConf

        flat = flatten(_container(OmegaConf.to_container(config)))
        return XPDefinition(
            argv=argv,
            delta=config_delta(flat, self._defaults, self.exclude),
            config=self._kept_config(flat),
            backend=self.backend,
            package=self.package,
        )

    def _parse(self, argv: list[str]) -> list[Override]:
        flags = [item for item in argv if item.startswith("-")]
        if flags:
            message = (
                f"{self.module} takes hydra overrides key=value, not {' '.join(flags)}: "
                "sweeps and hydra's own flags are not supported; use a grid file"
            )
            raise ArgumentError(message)
        overrides = [parse_override(item) for item in argv]
        sweeps = [str(o.input_line) for o in overrides if o.is_sweep_override()]
        if sweeps:
            message = f"{', '.join(sweeps)}: sweeps are not supported; list the values in a grid"
            raise ArgumentError(message)
        return overrides

    @property
    def groups(self) -> frozenset[str]:
        """The configuration's groups (``model``, ``hydra/launcher``, ...)."""
        if self._groups is None:
            self._base(())
        assert self._groups is not None
        return self._groups

    def _is_group(self, override: Override) -> bool:
        return override.key_or_group in self.groups or override.package is not None

    def _group_overrides(self, overrides: list[Override]) -> tuple[str, ...]:
        latest: dict[str, str] = {}
        for override in overrides:
            if self._is_group(override) and not is_hydra_key(override.key_or_group):
                latest[override.key_or_group] = str(override.input_line)
        return tuple(sorted(latest.values()))

    def _change(self, config: DictConfig, override: Override) -> None:
        from omegaconf import OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        if not has_key(config, override.key_or_group):
            raise ArgumentError(self._unknown_message(override))
        try:
            OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
        except OmegaConfBaseException as error:
            message = f"{override.input_line}: {' '.join(str(error).split())}"
            raise ArgumentError(message) from None

    def _unknown_message(self, override: Override) -> str:
        close = _close_keys(override.key_or_group, self._defaults)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        return (
            f"{self.module} has no key {override.key_or_group} ({override.input_line}): "
            f"{hint}to add a new key write +{override.input_line}"
        )

    def _option(self, name: str, value: Any) -> list[str]:
        if name in self.groups and isinstance(value, str):
            return [f"{name}={value}"]
        return [f"{name}={override_value(value)}"]

    def _maybe_help(self, argv: Sequence[str]) -> None:
        if not {"-h", "--help"} & set(argv):
            return
        from omegaconf import OmegaConf

        base = self._base(())
        groups = sorted(group for group in self.groups if not is_hydra_key(group))
        print(f"{self.module}: hydra overrides key=value; groups: {', '.join(groups)}")
        print(OmegaConf.to_yaml(base), end="")
        raise SystemExit(0)

    def _run(self, xp: XP) -> Any:
        chdir = self._prepare_hydra(xp)
        with _working_directory(xp.folder if chdir else None):
            return self.function(xp.cfg)

    def _prepare_hydra(self, xp: XP) -> bool:
        from hydra.core.hydra_config import HydraConfig
        from hydra.core.utils import configure_log
        from hydra.version import base_at_least
        from omegaconf import open_dict, read_write

        full = self._hydra_config
        assert full is not None
        with read_write(full), open_dict(full):
            full.hydra.run.dir = str(xp.folder)
            full.hydra.runtime.output_dir = str(xp.folder)
        HydraConfig.instance().set_config(full)
        configure_log(full.hydra.job_logging, full.hydra.verbose)
        chdir = full.hydra.job.chdir
        return bool(chdir) if chdir is not None else not base_at_least("1.2")


def hydra_main(
    *, config_path: str, config_name: str, version_base: str | None = None
) -> Callable[[Callable[..., Any]], HydraMain]:
    """Decorate a project's main whose configuration hydra composes.

    Args:
        config_path: the configuration folder, relative to the decorated function's file.
        config_name: the primary configuration's name (``"config"`` for ``config.yaml``).
        version_base: hydra's ``version_base`` (None: the installed hydra's defaults).

    Example:
        >>> @hydra_main(config_path="conf", config_name="config")  # doctest: +SKIP
        ... def main(cfg):
        ...     print(cfg.lr, get_xp().folder)
    """

    def decorate(function: Callable[..., Any]) -> HydraMain:
        return HydraMain(
            function, config_path=config_path, config_name=config_name, version_base=version_base
        )

    return decorate


def _close_keys(key: str, defaults: Mapping[str, Any]) -> list[str]:
    import difflib

    return difflib.get_close_matches(key, list(defaults), n=3)


def _container(value: Any) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


@contextmanager
def _working_directory(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    previous = os.getcwd()
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _written_dir(primary: Path) -> str | None:
    """``dir`` as the primary config file writes it, when it is a plain string.

    Reading it this way spares composing the whole configuration (a quarter of a second)
    for commands that only need the store; anything else (an interpolation, a section that
    defaults bring in) is left to the composed configuration.
    """
    import yaml  # type: ignore[import-untyped]

    try:
        document = yaml.safe_load(primary.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(document, dict):
        return None
    for name in ("xp", "dora"):
        section = document.get(name)
        if isinstance(section, dict):
            found = section.get("dir")
            return found if isinstance(found, str) and "${" not in found else None
    return None
