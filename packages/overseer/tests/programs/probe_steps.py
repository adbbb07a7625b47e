"""A module that probe_train.py imports and probe_voirfile.py probes."""


def run(n):
    for i in range(n):
        x = i * 2  # noqa: F841 - probe_voirfile.py probes it
    return n
