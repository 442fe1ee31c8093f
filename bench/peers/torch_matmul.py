"""GEMM throughput of PyTorch on the CPU, for logflow's bench:kernels (same shapes, same threads).

Usage: /usr/bin/python3 torch_matmul.py THREADS M,K,N [M,K,N ...]
Prints one JSON object: {"torch": version, "threads": n, "results": [{"shape": "M,K,N", "gflops": x}]}.
Each shape: C = A @ B in float32 (fresh random A and B), timed over repeats until 0.5 s have passed.
"""
import json
import sys
import time

import torch


def main() -> None:
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    results = []
    for spec in sys.argv[2:]:
        m, k, n = (int(x) for x in spec.split(","))
        a = torch.rand(m, k, dtype=torch.float32)
        b = torch.rand(k, n, dtype=torch.float32)
        for _ in range(3):
            torch.mm(a, b)
        reps = 0
        t0 = time.perf_counter()
        while True:
            torch.mm(a, b)
            reps += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= 0.5:
                break
        results.append({"shape": spec, "gflops": 2.0 * m * k * n * reps / elapsed / 1e9})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
