"""A torch pipeline: a Dataset of 16 items, a DataLoader (2 workers, batches of 2), a model.

Prints how many batches went through.
"""

import torch
from torch.utils.data import DataLoader, Dataset

from overseer_tracing import trace_dataset_func, trace_func, trace_model_func


class Ramp(Dataset):
    def __len__(self):
        return 16

    @trace_dataset_func
    def __getitem__(self, index):
        return torch.full((3,), float(index))


@trace_func(stage_name="collate")
def stack(items):
    return torch.stack(items)


@trace_model_func
def model(batch):
    return batch.sum(dim=1)


batches = 0
for batch in DataLoader(Ramp(), batch_size=2, num_workers=2, collate_fn=stack):
    model(batch)
    batches += 1
print(f"batches: {batches}")
