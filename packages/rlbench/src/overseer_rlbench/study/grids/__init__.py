"""The grids of the scaling study."""
