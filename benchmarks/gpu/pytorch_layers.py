# The same three models as sequential-steps.mjs in PyTorch (cuDNN nn.RNN, tanh), eager, on the same GPU: median ms per
# training step (forward, cross-entropy, backward, Adam), synchronised each step. One JSON line per model and batch.
import json, time, torch
dev = 'cuda'
T, I, H, C = 28, 28, 150, 10
class Model(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.r1 = torch.nn.RNN(I, H, batch_first=True)
        self.r2 = torch.nn.RNN(H, H, batch_first=True) if kind == 'stacked' else None
        self.d = torch.nn.Linear(H, C)
    def forward(self, x):
        o, h = self.r1(x)
        if self.r2 is not None:
            o, h = self.r2(o)
        return self.d(o) if self.kind == 'per-step' else self.d(h[-1])
for B in (150, 1024):
    for kind in ('single', 'stacked', 'per-step'):
        torch.manual_seed(1)
        m = Model(kind).to(dev)
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        x = torch.rand(B, T, I, device=dev)
        y = torch.randint(0, C, (B, T) if kind == 'per-step' else (B,), device=dev)
        lossf = torch.nn.CrossEntropyLoss()
        def step():
            opt.zero_grad(set_to_none=True)
            loss = lossf(m(x).reshape(-1, C), y.reshape(-1))
            loss.backward()
            opt.step()
        for _ in range(10): step()
        torch.cuda.synchronize()
        ts = []
        for _ in range(50):
            t0 = time.perf_counter(); step(); torch.cuda.synchronize(); ts.append(time.perf_counter() - t0)
        ts.sort()
        p50 = ts[25] * 1000
        print(json.dumps({'system': 'pytorch-eager', 'torch': torch.__version__, 'device': torch.cuda.get_device_name(), 'model': kind, 'batch': B, 'step_ms_p50': round(p50, 3), 'seq_per_s': round(B / p50 * 1000)}), flush=True)
