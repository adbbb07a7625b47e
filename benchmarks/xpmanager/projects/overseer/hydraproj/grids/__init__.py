"""The grids of hydraproj: ``grid sweep``."""
