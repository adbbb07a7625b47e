"""A small CPU training loop that times itself: the workload the monitors' overhead is read on.

    python train.py            # BENCH_STEPS steps (default 200) after 20 warm-up steps

Its last line of output is JSON: ``{"loop_s": float, "cpu_s": float, "steps": int,
"workload": str}``: the seconds the timed steps took by ``time.perf_counter``, and the CPU
seconds the whole process (every thread) used meanwhile, by ``time.process_time``. The
model is a three-layer MLP on random data, trained with SGD on the CPU; without torch, a
pure Python loop stands in.
``BENCH_TORCH_PATH``, when set, is appended to ``sys.path`` (last, so the environment's own
packages win) for an environment that holds no torch of its own.
"""

import json
import os
import sys
import time

STEPS = int(os.environ.get("BENCH_STEPS", "200"))
WARM_UP = 20

if os.environ.get("BENCH_TORCH_PATH"):
    sys.path.append(os.environ["BENCH_TORCH_PATH"])

try:
    import torch
except ImportError:
    torch = None


def torch_step():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(256, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    inputs, targets = torch.randn(128, 256), torch.randint(0, 10, (128,))

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()

    return step


def python_step():
    def step():
        total = 0
        for value in range(20_000):
            total += value * value
        return total

    return step


step = torch_step() if torch is not None else python_step()
for _ in range(WARM_UP):
    step()
start, start_cpu = time.perf_counter(), time.process_time()
for _ in range(STEPS):
    step()
elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
workload = "torch" if torch is not None else "python"
print(json.dumps({"loop_s": elapsed, "cpu_s": cpu, "steps": STEPS, "workload": workload}))
