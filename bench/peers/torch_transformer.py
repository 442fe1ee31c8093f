"""The next-token transformer in PyTorch, for logflow's bench:train: the same shape, batch and steps as logflow's.

Usage: /usr/bin/python3 torch_transformer.py THREADS STEPS
Token embedding (31 ids: 30 templates + PAD = 30, padding_idx) plus a learned positional embedding
(max_len 100), dropout 0.1, 2 post-LN nn.TransformerEncoderLayer (d_model 128, 4 heads, FFN 512, GELU,
dropout 0.1, batch first) with a causal mask and a key-padding mask, a final LayerNorm and a linear
head to 31 classes; cross-entropy ignoring PAD; AdamW (lr 3e-4, betas 0.9/0.98, weight decay 0.01);
gradient clipping at 1.0. Batches of 32 windows of 100 events (input 99, target 99), the last 10
positions of every fourth window padded. One step = forward + backward + clip + AdamW update.
Prints one JSON object: {"torch": version, "threads": n, "ms_per_step": median,
"steps_per_second": x, "final_loss": loss} after 3 warm-up steps.
"""
import json
import statistics
import sys
import time

import torch
from torch import nn

V, PAD, D, LAYERS, HEADS, FFN, DROP, MAXLEN, B, T = 31, 30, 128, 2, 4, 512, 0.1, 100, 32, 99


class NextToken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(V, D, padding_idx=PAD)
        self.pos = nn.Embedding(MAXLEN, D)
        self.drop = nn.Dropout(DROP)
        layer = nn.TransformerEncoderLayer(D, HEADS, FFN, DROP, activation="gelu", batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, V)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        pos = torch.arange(t).unsqueeze(0)
        x = self.drop(self.tok(ids) + self.pos(pos))
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        x = self.encoder(x, mask=causal, src_key_padding_mask=ids == PAD)
        return self.head(self.norm(x))


def main() -> None:
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(3)
    model = NextToken()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.98), weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    batches = []
    for _ in range(4):
        seq = torch.randint(0, PAD, (B, T + 1))
        seq[::4, -10:] = PAD
        batches.append((seq[:, :-1].contiguous(), seq[:, 1:].contiguous()))

    def step(k: int) -> float:
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return float(loss)

    for k in range(3):
        step(k)
    times = []
    loss = 0.0
    for k in range(steps):
        t0 = time.perf_counter()
        loss = step(k)
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({"torch": torch.__version__, "threads": threads, "ms_per_step": ms, "steps_per_second": 1000 / ms, "final_loss": loss}))


if __name__ == "__main__":
    main()
