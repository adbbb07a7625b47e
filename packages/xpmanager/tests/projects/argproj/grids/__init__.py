"""The grids of argproj: ``suite xp grid basic``."""
