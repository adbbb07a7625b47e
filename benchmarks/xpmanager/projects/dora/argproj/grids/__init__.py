"""The grids of argproj: ``grid sweep``."""
