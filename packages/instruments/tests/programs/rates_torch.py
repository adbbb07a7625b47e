"""A small torch training loop over a real DataLoader, giving steps of one second (delta).

    rates_torch.py --workers 2

Each step gives ``delta=1.0`` and its real input tensor as ``batch``: the train rate is then
the batch size read from the tensor. The loader is given, for --loading-rate.
"""

import argparse

import torch
from torch.utils.data import DataLoader, TensorDataset

from overseer import give

parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=0)
args = parser.parse_args()

torch.manual_seed(0)
dataset = TensorDataset(torch.randn(200, 8), torch.randint(0, 2, (200,)))
loader = DataLoader(dataset, batch_size=32, num_workers=args.workers)
give(loader=loader)
model = torch.nn.Linear(8, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _epoch in range(2):
    for inputs, targets in loader:
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        give(delta=1.0, batch=inputs, loss=loss.item())
print(f"{type(loader).__name__}, a DataLoader: {isinstance(loader, DataLoader)}, {len(loader)}")
