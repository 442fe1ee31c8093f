"""DeepLog's model in PyTorch, for logflow's bench:train: the same shape, batch and steps as logflow's.

Usage: /usr/bin/python3 torch_deeplog.py THREADS STEPS
2 x LSTM(64) over one-hot inputs of 30 (28 keys + padding + unseen; PyTorch's nn.LSTM, batch first),
a linear head to 28 classes on the last step, softmax cross-entropy, Adam (lr 0.001); batches of 256
windows of 10 keys drawn at random (seed 3). One step = forward + backward + Adam update. Prints
one JSON object: {"torch": version, "threads": n, "ms_per_step": median, "steps_per_second": x,
"final_loss": loss} after 3 warm-up steps.
"""
import json
import statistics
import sys
import time

import torch
from torch import nn

INPUTS, HIDDEN, LAYERS, CLASSES, B, T = 30, 64, 2, 28, 256, 10


class DeepLog(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(INPUTS, HIDDEN, LAYERS, batch_first=True)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def main() -> None:
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(3)
    model = DeepLog()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    batches = []
    for _ in range(4):
        keys = torch.randint(0, INPUTS, (B, T))
        batches.append((nn.functional.one_hot(keys, INPUTS).float(), torch.randint(0, CLASSES, (B,))))

    def step(k: int) -> float:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return float(loss)

    for k in range(3):
        step(k)
    times, loss = [], 0.0
    for k in range(1, steps + 1):
        t0 = time.perf_counter()
        loss = step(k)
        times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "ms_per_step": ms, "steps_per_second": 1000 / ms, "final_loss": loss}))


if __name__ == "__main__":
    main()
