"""1,000 XPs: 10 learning rates x 10 batch sizes x 10 seeds, on top of bound settings."""

from dora import Explorer


@Explorer
def explorer(launcher):
    launcher.slurm_(gpus=1, partition="learnlab")
    launcher.bind_({"epochs": 40, "model": "large"}, "--amp")
    for lr in [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5]:
        sub = launcher.bind(lr=lr)
        for batch_size in [16, 32, 48, 64, 96, 128, 192, 256, 384, 512]:
            for seed in range(10):
                sub(batch_size=batch_size, seed=seed)
