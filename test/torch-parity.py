# The PyTorch side of test/torch.test.ts: for every model in DIR/manifest.json, loads our export (DIR/NAME.safetensors)
# into the PyTorch module of README's "Moving to PyTorch and back" in float64 with load_state_dict(strict=True), runs
# the batch of DIR/NAME.batch.safetensors (mixed lengths through pack_padded_sequence), and writes what PyTorch computed
# to DIR/NAME.torch.safetensors: the last layer's outputs, h_n (and c_n), the predictions, the loss, every gradient;
# then 3 steps of torch.optim.Adam on that batch and the module's state_dict after them to DIR/NAME.trained.safetensors.
#
# Our Adam is TensorFlow's: p -= lr·sqrt(1 - b2^t)/(1 - b1^t) · m / (sqrt(v) + eps). PyTorch's divides by
# sqrt(v)/sqrt(1 - b2^t) + eps, the same step when its eps at step t is ours / sqrt(1 - b2^t): set before each step.
# tanh and LSTM keep one bias where PyTorch keeps two: exported as bias_ih = b, bias_hh = 0, each gets b's gradient,
# so Adam would move their sum twice as far as our b. Freezing bias_hh (requires_grad False) trains as we do.
#
# safetensors' Python package is not in Debian 12: the files are read and written here from the format's documented
# layout (an 8-byte little-endian header length, a JSON header of dtype / shape / data_offsets, the packed data),
# with struct, json and torch.frombuffer; written files pad the header with spaces to 8 bytes and order the tensors
# by name, as safetensors.torch.save_file does for tensors of one dtype.
# Usage: /usr/bin/python3 test/torch-parity.py DIR
import json, math, os, struct, sys
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


def load_file(path):
    """safetensors.torch.load_file, from the format's layout."""
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        t = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[e['dtype']]) if end > b else torch.zeros(0, dtype=DTYPES[e['dtype']])
        out[name] = t.reshape(e['shape'])
    return out


def save_file(tensors, path):
    """safetensors.torch.save_file, from the format's layout."""
    header, blobs, at = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


class Model(nn.Module):
    """README's module: nn.RNN (tanh) / nn.LSTM / nn.GRU as rnn, batch_first; nn.Linear as fc on the last layer's final
    h, or at every step (per_step)."""

    def __init__(self, cell, inputs, units, layers, outputs, per_step):
        super().__init__()
        RNN = {'tanh': nn.RNN, 'lstm': nn.LSTM, 'gru': nn.GRU}[cell]
        self.rnn = RNN(inputs, units, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(units, outputs)
        self.per_step = per_step

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])   # zero past each length
        h = state[0] if isinstance(state, tuple) else state                             # h_n [layers, n, units]
        return (self.fc(out) if self.per_step else self.fc(h[-1])), out, state


def loss_of(y_hat, y, lengths, loss, per_step):
    """Ours: the mean over valid elements (sequences, or (sequence, step) pairs t < length; and outputs, for MSE)."""
    if per_step:
        mask = torch.arange(y_hat.shape[1])[None, :] < lengths[:, None]
        y_hat, y = y_hat[mask], y[mask]
    if loss == 'mse':
        return ((y_hat - y) ** 2).mean()
    return nn.functional.cross_entropy(y_hat, y.long())


def run(d, m):
    name = m['name']
    model = Model(m['cell'], m['inputs'], m['units'], m['layers'], m['outputs'], m['perStep']).double()
    model.load_state_dict(load_file(os.path.join(d, f'{name}.safetensors')), strict=True)
    batch = load_file(os.path.join(d, f'{name}.batch.safetensors'))
    x, y, lengths = batch['x'].double(), batch['y'], batch['lengths'].long()
    if m['loss'] == 'mse':
        y = y.double()
    y_hat, out, state = model(x, lengths)
    loss = loss_of(y_hat, y, lengths, m['loss'], m['perStep'])
    model.zero_grad()
    loss.backward()
    result = {'outputs': out, 'loss': loss.reshape([])}
    if isinstance(state, tuple):
        result['h_n'], result['c_n'] = state
    else:
        result['h_n'] = state
    pred = y_hat if m['loss'] == 'mse' else torch.softmax(y_hat, -1)
    if m['perStep']:
        pred = pred * (torch.arange(x.shape[1])[None, :, None] < lengths[:, None, None])
    result['predictions'] = pred
    for k, p in model.state_dict().items():
        result[f'grad.{k}'] = dict(model.named_parameters())[k].grad
    save_file(result, os.path.join(d, f'{name}.torch.safetensors'))

    # 3 Adam steps on the same batch, as ours; bias_hh frozen where we keep one bias.
    if m['cell'] != 'gru':
        for k, p in model.rnn.named_parameters():
            if k.startswith('bias_hh'):
                p.requires_grad_(False)
    o = m['optimizer']
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=o['learningRate'], betas=(o['beta1'], o['beta2']))
    for t in range(1, m['trainSteps'] + 1):
        for g in opt.param_groups:
            g['eps'] = o['epsilon'] / math.sqrt(1 - o['beta2'] ** t)
        opt.zero_grad()
        y_hat, _, _ = model(x, lengths)
        loss_of(y_hat, y, lengths, m['loss'], m['perStep']).backward()
        opt.step()
    save_file(model.state_dict(), os.path.join(d, f'{name}.trained.safetensors'))


def readme(d):
    """README's Python snippet, as written there, with safetensors.torch.load_file from here (not in Debian 12), run in
    DIR/readme on its x and lengths; writes the probabilities it computes."""
    import types
    st = types.ModuleType('safetensors'); st.torch = types.ModuleType('safetensors.torch'); st.torch.load_file = load_file
    sys.modules['safetensors'], sys.modules['safetensors.torch'] = st, st.torch
    batch = load_file(os.path.join(d, 'batch.safetensors'))
    scope = {'x': batch['x'], 'lengths': batch['lengths'].long()}
    here = os.getcwd()
    os.chdir(d)
    try:
        exec(open('snippet.py').read(), scope)
    finally:
        os.chdir(here)
    save_file({'probs': scope['probs'].detach()}, os.path.join(d, 'probs.safetensors'))


if __name__ == '__main__':
    torch.set_num_threads(1)
    d = sys.argv[1]
    if os.path.exists(os.path.join(d, 'readme', 'snippet.py')):
        readme(os.path.join(d, 'readme'))
    for m in json.load(open(os.path.join(d, 'manifest.json'))):
        run(d, m)
    print(json.dumps({'torch': torch.__version__, 'models': len(json.load(open(os.path.join(d, 'manifest.json'))))}))
