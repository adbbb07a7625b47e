"""The scaling study as an xpmanager project: ``train.py`` and the grid ``grids/scaling.py``.

Every training run of a study is an XP named by the signature of its arguments, so running
the study again reuses the runs that finished. ``suite rl study`` drives it; by hand::

    OVERSEER_XP_DIR=rl-study suite xp -P overseer_rlbench.study grid scaling
    OVERSEER_XP_DIR=rl-study suite xp -P overseer_rlbench.study run -- --size 4 --preset xs

This subpackage needs overseer-xpmanager (``pip install 'overseer-rlbench[study]'``).
"""
