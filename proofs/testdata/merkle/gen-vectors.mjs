// gen-vectors.mjs writes vectors.json: Merkle trees built by the real
// @openzeppelin/merkle-tree StandardMerkleTree (the version pinned in
// package.json), with every leaf hash, root, proof and a few multiproofs, so the
// Go tests in proofs/ can check our tree byte-for-byte without node.
//
// Usage: npm ci && node gen-vectors.mjs   (writes vectors.json next to this file)

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';

const here = new URL('.', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('node_modules/@openzeppelin/merkle-tree/package.json', here)));

const SHARD = ['uint256', 'bytes32', 'uint256'];
const CLAIM = ['address', 'uint256'];
const MIB = 1n << 20n;
const U64_MAX = (1n << 64n) - 1n;
const U256_MAX = (1n << 256n) - 1n;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest();
const hex = (buf) => '0x' + Buffer.from(buf).toString('hex');

// u64be is the 8-byte big-endian encoding of n.
function u64be(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

// shardDigest is the deterministic stand-in for a shard's sha256 digest:
// sha256 of the shard index as 8 big-endian bytes.
const shardDigest = (index) => hex(sha256(u64be(index)));

// account is a deterministic address: the first 20 bytes of sha256("account-" + i).
const account = (i) => hex(sha256(Buffer.from(`account-${i}`)).subarray(0, 20));

// shardValues is a contribution of n shards: all full 1 MiB shards but the last.
function shardValues(n) {
  const values = [];
  for (let i = 0; i < n; i++) {
    const size = i < n - 1 ? MIB : (BigInt(n) * 12345n) % MIB + 1n;
    values.push([i.toString(), shardDigest(i), size.toString()]);
  }
  return values;
}

// claimValues are cumulative reward claims of n accounts, amounts in wei.
function claimValues(n) {
  const values = [];
  for (let i = 0; i < n; i++) {
    const amount = BigInt(i + 1) * 10n ** 18n + BigInt(i) * 123456789n;
    values.push([account(i), amount.toString()]);
  }
  return values;
}

// multiProofSets picks deterministic index sets to prove together.
function multiProofSets(n) {
  const sets = [];
  sets.push([0]);
  if (n >= 2) sets.push([n - 1, 0]);
  if (n >= 4) sets.push([1, 2, n - 1]);
  if (n >= 5) sets.push(Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === 1));
  if (n <= 16) sets.push(Array.from({ length: n }, (_, i) => i).reverse());
  const seen = new Set();
  return sets.filter((s) => !seen.has(String(s)) && seen.add(String(s)));
}

function vector(name, leafEncoding, values, { multiProofs = true, emptyMultiProof = false, dump = false } = {}) {
  const tree = StandardMerkleTree.of(values, leafEncoding);
  const dumped = tree.dump();
  const leafHashes = dumped.values.map(({ treeIndex }) => dumped.tree[treeIndex]);
  const proofs = values.map((_, i) => tree.getProof(i));
  proofs.forEach((p, i) => {
    if (!StandardMerkleTree.verify(tree.root, leafEncoding, values[i], p)) throw new Error(`${name}: proof ${i} does not verify`);
  });
  const out = { name, leafEncoding, values, leafHashes, root: tree.root, proofs };
  if (multiProofs) {
    const sets = multiProofSets(values.length);
    if (emptyMultiProof) sets.push([]);
    out.multiProofs = sets.map((indices) => {
      const mp = tree.getMultiProof(indices);
      if (!tree.verifyMultiProof(mp)) throw new Error(`${name}: multiproof ${indices} does not verify`);
      // The library returns the proven values ordered by tree index, highest
      // first; record that order as value indices and as leaf hashes.
      const order = [...indices].sort((a, b) => dumped.values[b].treeIndex - dumped.values[a].treeIndex);
      return {
        indices,
        leafIndices: order,
        leaves: order.map((i) => dumped.tree[dumped.values[i].treeIndex]),
        proof: mp.proof,
        proofFlags: mp.proofFlags,
      };
    });
  }
  if (dump) out.dump = dumped;
  return out;
}

const trees = [];
for (const n of [1, 2, 3, 4, 5, 7, 8, 16, 33, 100]) {
  trees.push(vector(`shard-${n}`, SHARD, shardValues(n), { emptyMultiProof: n === 4, dump: n === 5 }));
}

// Boundary values of the uint64 fields ShardLeaf takes.
trees.push(
  vector(
    'shard-edge',
    SHARD,
    [
      ['0', hex(Buffer.alloc(32)), '0'],
      [(1n << 32n).toString(), hex(Buffer.alloc(32, 0xff)), '1'],
      [U64_MAX.toString(), shardDigest(7), U64_MAX.toString()],
    ],
  ),
);

trees.push(vector('claim-6', CLAIM, claimValues(6), { dump: true }));

// Duplicate leaves and the extremes of uint256: equal leaf hashes keep their
// input order (the library's sort is stable), which changes their proofs.
const dup = claimValues(4);
dup.push([...dup[1]], ['0x0000000000000000000000000000000000000000', '0'], [account(9), U256_MAX.toString()], [...dup[1]]);
trees.push(vector('claim-dup-8', CLAIM, dup, { dump: true }));

// Every other ABI type LeafHash supports, dynamic ones included.
trees.push(
  vector(
    'mixed-3',
    ['string', 'bytes', 'bool', 'int8', 'uint64', 'bytes4', 'uint256[]', 'address[2]', 'string[]'],
    [
      ['', '0x', false, '-128', '0', '0x00000000', [], [account(0), account(1)], []],
      ['openledger <&> ünïcode', '0x' + 'ab'.repeat(33), true, '127', U64_MAX.toString(), '0xdeadbeef', ['1', U256_MAX.toString()], [account(2), account(2)], ['a', '', 'bc']],
      ['x'.repeat(70), '0x01', true, '-1', '42', '0x01020304', ['7'], [account(3), '0x0000000000000000000000000000000000000000'], ['datanet']],
    ],
    { dump: true },
  ),
);

const doc = {
  comment: 'Generated by gen-vectors.mjs; do not edit. See README.md.',
  generator: `${pkg.name}@${pkg.version}`,
  trees,
};
writeFileSync(new URL('vectors.json', here), JSON.stringify(doc, null, 2) + '\n');
console.log(`wrote vectors.json: ${trees.length} trees from ${doc.generator}`);
