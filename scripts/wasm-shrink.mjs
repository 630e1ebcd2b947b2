// Makes a wasm module smaller *after gzip*, which is what browsers download:
//
//   node scripts/wasm-shrink.mjs <in.wasm> <out.wasm> [--drop-exports=<regex>]
//
// 0. With --drop-exports, the exports whose names match are removed first, and with them
//    whatever only they reached (binaryen's remove-unused-module-elements). scripts/build-app.sh
//    uses it for the exported JS classes of wasm-streams (see there).
// 1. A few of binaryen's passes that shrink the code without making it less compressible:
//    identical functions merged (Leptos's generic code has many), peephole rewrites, dead
//    branches, local reordering, folded tails. (binaryen's -Oz makes this console 15 % smaller
//    raw but 7 % larger after gzip: inlining and its reorderings break up the repetition gzip
//    lives on; see docs/benchmarks.md.)
// 2. The functions reordered so that similar ones sit side by side, within reach of gzip's
//    32 KB window: greedily, each next function is the unplaced one sharing the largest part
//    of its 4-byte pieces with the last placed one. The module's behaviour is unchanged
//    (binaryen refers to functions by name; exports, the table and calls are rewritten).
//
// binaryen's JS build comes from the npm registry, pinned in scripts/wasm-tools/package.json;
// scripts/build-app.sh runs this on the console's main module when Node.js is there.
import { readFileSync, writeFileSync } from 'node:fs';

const { default: binaryen } = await import(new URL('./wasm-tools/node_modules/binaryen/index.js', import.meta.url).href);

const [input, output, ...options] = process.argv.slice(2);
const dropOption = options.find((o) => o.startsWith('--drop-exports='));
if (!input || !output || options.length > (dropOption ? 1 : 0)) {
  console.error('usage: node scripts/wasm-shrink.mjs <in.wasm> <out.wasm> [--drop-exports=<regex>]');
  process.exit(2);
}
const dropExports = dropOption && new RegExp(dropOption.slice('--drop-exports='.length));

// What rustc's wasm32-unknown-unknown target enables (and wasm-bindgen's output uses).
const F = binaryen.Features;
const features = F.MVP | F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.BulkMemoryOpt | F.ReferenceTypes | F.Multivalue | F.CallIndirectOverlong;

const PASSES = [
  'duplicate-function-elimination',
  'optimize-instructions',
  'remove-unused-brs',
  'reorder-locals',
  'code-folding',
  'duplicate-function-elimination',
];

const module = binaryen.readBinary(readFileSync(input));
module.setFeatures(features);
binaryen.setOptimizeLevel(0);
binaryen.setShrinkLevel(0);
if (dropExports) {
  const names = [];
  for (let i = 0; i < module.getNumExports(); i += 1) {
    const { name } = binaryen.getExportInfo(module.getExportByIndex(i));
    if (dropExports.test(name)) names.push(name);
  }
  if (names.length === 0) throw new Error(`no export matches ${dropExports}`);
  for (const name of names) module.removeExport(name);
  module.runPasses(['remove-unused-module-elements']);
}
module.runPasses(PASSES);

// The defined functions, in the order of the binary's code section.
const defined = [];
for (let i = 0; i < module.getNumFunctions(); i += 1) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (!info.module) defined.push(info.name);
}
const bodies = codeBodies(module.emitBinary());
if (bodies.length !== defined.length) {
  throw new Error(`${bodies.length} function bodies but ${defined.length} defined functions`);
}

for (const k of similarityOrder(bodies)) {
  const name = defined[k];
  const info = binaryen.getFunctionInfo(module.getFunction(name));
  // Removing and adding again moves the function to the end; its body stays in the module.
  module.removeFunction(name);
  module.addFunction(name, info.params, info.results, info.vars, info.body);
}

if (!module.validate()) throw new Error('the reordered module does not validate');
const out = module.emitBinary();
writeFileSync(output, out);
module.dispose();

/** The bodies of the code section (section 10), each as bytes. */
function codeBodies(bytes) {
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at];
      at += 1;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return [value, at];
    }
  };
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = leb(at + 1);
    if (id === 10) {
      let [count, p] = leb(start);
      const out = [];
      while (count > 0) {
        const [len, body] = leb(p);
        out.push(bytes.subarray(body, body + len));
        p = body + len;
        count -= 1;
      }
      return out;
    }
    at = start + size;
  }
  return [];
}

/** An order of the bodies in which neighbours are alike (greedy, by shared 4-byte pieces). */
function similarityOrder(bodies) {
  // 4-byte pieces and the limit of 1000 measured best on this console among 3 to 8 bytes and
  // 100 to 100,000 (main module after gzip: 133.7 KB, against 134.3 to 137.1 KB).
  const SHINGLE = 4;
  // Pieces shared by more bodies than this say little about likeness, and cost time.
  const COMMON = 1000;
  const key = (b, i) => {
    let s = '';
    for (let j = i; j < i + SHINGLE; j += 1) s += String.fromCharCode(b[j]);
    return s;
  };
  const pieces = bodies.map((b) => {
    const set = new Set();
    for (let i = 0; i + SHINGLE <= b.length; i += 1) set.add(key(b, i));
    if (set.size === 0) set.add(String.fromCharCode(...b));
    return set;
  });
  const holders = new Map();
  pieces.forEach((set, k) => {
    for (const p of set) {
      let list = holders.get(p);
      if (!list) holders.set(p, (list = []));
      list.push(k);
    }
  });
  // Start, and restart when nothing alike is left, in the order of the bodies' bytes.
  const byBytes = bodies.map((_, k) => k).sort((a, b) => compareBytes(bodies[a].subarray(1), bodies[b].subarray(1)));
  const placed = new Uint8Array(bodies.length);
  const order = [];
  let next = 0;
  let current = byBytes[0];
  while (current !== undefined) {
    placed[current] = 1;
    order.push(current);
    const shared = new Map();
    for (const p of pieces[current]) {
      const list = holders.get(p);
      if (list.length > COMMON) continue;
      for (const k of list) if (!placed[k]) shared.set(k, (shared.get(k) ?? 0) + 1);
    }
    let best;
    let bestScore = -1;
    for (const [k, n] of shared) {
      const score = n / (pieces[k].size + pieces[current].size - n);
      if (score > bestScore || (score === bestScore && k < best)) {
        bestScore = score;
        best = k;
      }
    }
    if (best === undefined) {
      while (next < byBytes.length && placed[byBytes[next]]) next += 1;
      best = byBytes[next];
    }
    current = best;
  }
  return order;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
