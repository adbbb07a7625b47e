"""Instruments that probe the functions of probe_train.py (selected with $VOIRFILE)."""


def instrument_probe_module(ov):
    yield ov.phases.init
    ov.probe("/probe_steps/run > x").give()


def instrument_probe_script(ov):
    yield ov.phases.load_script
    ov.probe("//train_epoch > loss").give()
