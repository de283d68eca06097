// build.mjs compiles contracts/src/*.sol with the solc-js pinned in
// package.json and writes the ABI and creation bytecode of each deployable
// contract to proofs/contracts/<Name>.abi and <Name>.bin.
//
//   node contracts/build.mjs          write the artifacts
//   node contracts/build.mjs --check  compare with the committed artifacts;
//                                     exit 1 naming each one that differs
//
// The output is reproducible: fixed compiler, settings and source order,
// no metadata hash in the bytecode, and JSON with sorted keys.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const outDir = join(here, "..", "proofs", "contracts");
const nodeModules = join(here, "node_modules");

// Compiler settings. Changing any of them changes the committed bytecode.
const settings = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 10000 },
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
};

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

function findImport(path) {
  if (!path.startsWith("@openzeppelin/")) {
    return { error: `import ${path}: only @openzeppelin/ imports are resolved` };
  }
  const file = join(nodeModules, path);
  if (!existsSync(file)) {
    return { error: `import ${path}: not in ${relative(process.cwd(), nodeModules)}; run npm ci in contracts/` };
  }
  return { contents: readFileSync(file, "utf8") };
}

function compile() {
  const sources = {};
  for (const name of readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
    sources[`src/${name}`] = { content: readFileSync(join(srcDir, name), "utf8") };
  }
  const input = { language: "Solidity", sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  for (const e of output.errors ?? []) console.error(e.formattedMessage);
  if (errors.length > 0) {
    throw new Error(`solc: ${errors.length} error(s)`);
  }
  // Artifacts: file name -> content, for the contracts of src/ with code.
  const artifacts = new Map();
  for (const file of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts[file] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const bin = c.evm.bytecode.object;
      if (!bin) continue; // abstract contract or interface
      if (artifacts.has(`${name}.bin`)) throw new Error(`two contracts named ${name}`);
      artifacts.set(`${name}.abi`, JSON.stringify(sortKeys(c.abi), null, 2) + "\n");
      artifacts.set(`${name}.bin`, bin + "\n");
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes("--check");
  const artifacts = compile();
  const rel = (f) => relative(process.cwd(), join(outDir, f));
  if (!check) {
    for (const [file, content] of artifacts) writeFileSync(join(outDir, file), content);
    console.log(`solc ${solc.version()}: wrote ${[...artifacts.keys()].map(rel).join(" ")}`);
    return;
  }
  const bad = [];
  for (const [file, content] of artifacts) {
    const path = join(outDir, file);
    if (!existsSync(path)) bad.push(`${rel(file)}: missing`);
    else if (readFileSync(path, "utf8") !== content) bad.push(`${rel(file)}: differs from what the sources compile to`);
  }
  for (const file of readdirSync(outDir).filter((f) => f.endsWith(".abi") || f.endsWith(".bin")).sort()) {
    if (!artifacts.has(file)) bad.push(`${rel(file)}: no contract of contracts/src compiles to it`);
  }
  if (bad.length > 0) {
    console.error("contract artifacts are out of date (rebuild with: go generate ./proofs/contracts):");
    for (const b of bad) console.error("  " + b);
    process.exit(1);
  }
  console.log(`solc ${solc.version()}: ${artifacts.size} artifacts match the sources`);
}

try {
  main();
} catch (err) {
  console.error(`build.mjs: ${err.message}`);
  process.exit(1);
}
