"""An argparse training project in the Dora style: ``python -m argproj.train --lr=0.01``."""
