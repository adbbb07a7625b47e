"""A Dora-style argparse project: ``python -m argproj.train --lr=0.01``."""
