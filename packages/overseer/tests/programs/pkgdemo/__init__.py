"""A package run with ``overseer -m pkgdemo``."""
