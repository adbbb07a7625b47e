"""200 XPs: 2 models x 2 optimisers (config groups) x 10 learning rates x 5 seeds."""

from dora import Explorer


@Explorer
def explorer(launcher):
    launcher.bind_({"epochs": 40})
    for model in ["small", "large"]:
        for optim in ["sgd", "adam"]:
            sub = launcher.bind({"model": model, "optim": optim})
            for lr in [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5]:
                for seed in range(5):
                    sub({"lr": lr, "seed": seed})
