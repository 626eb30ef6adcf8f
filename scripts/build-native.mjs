#!/usr/bin/env node
// Builds the Rust price ladder (native/) into native/matchlog.<platform>.node.
//
//   node scripts/build-native.mjs            release build; on failure warn and exit 0
//   node scripts/build-native.mjs --strict   exit 1 when the addon cannot be built
//   node scripts/build-native.mjs --debug    debug build (faster to compile, slow to run)
//
// MATCHLOG_NATIVE=1 implies --strict (the addon is required); MATCHLOG_NATIVE=0
// skips the build (the pure TypeScript ladder is used).
// Without cargo, or when the build fails, the engine falls back to the pure
// TypeScript ladder, so a missing Rust toolchain is a warning, not an error.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crate = join(root, 'native');
const args = new Set(process.argv.slice(2));
const strict = args.has('--strict') || process.env.MATCHLOG_NATIVE === '1';
const release = !args.has('--debug');

function warn(msg) {
  const text = `build-native: ${msg}`;
  if (strict) {
    console.error(`${text}\nbuild-native: failing because the native addon is required (--strict or MATCHLOG_NATIVE=1)`);
    process.exit(1);
  }
  console.warn(`${text}\nbuild-native: WARNING: the native ladder is not built; matchlog will use the pure TypeScript ladder`);
  process.exit(0);
}

if (process.env.MATCHLOG_NATIVE === '0') {
  console.log('build-native: MATCHLOG_NATIVE=0, skipping the native build (pure TypeScript ladder)');
  process.exit(0);
}

/** The napi-rs platform suffix, e.g. linux-x64-gnu, darwin-arm64, win32-x64-msvc. */
function platformSuffix() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const header = process.report?.getReport?.().header;
    const glibc = header && typeof header === 'object' && 'glibcVersionRuntime' in header;
    const abi = glibc ? 'gnu' : 'musl';
    return arch === 'arm' ? `linux-arm-${abi}eabihf` : `linux-${arch}-${abi}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: crate, stdio: 'inherit', ...opts });
  if (r.error) return { ok: false, why: r.error.message };
  if (r.status !== 0) return { ok: false, why: `${cmd} exited with ${r.status ?? r.signal}` };
  return { ok: true };
}

const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.error || cargo.status !== 0) {
  warn('cargo not found (install Rust from https://rustup.rs to build the native ladder)');
}
console.log(`build-native: using ${cargo.stdout.trim()}`);

const started = Date.now();
const binaryName = JSON.parse(readFileSync(join(crate, 'package.json'), 'utf8')).napi?.binaryName ?? 'matchlog';
const target = join(crate, `${binaryName}.${platformSuffix()}.node`);

// Remove a stale addon first so a failed build cannot leave an old one in use.
for (const f of readdirSync(crate)) {
  if (f.startsWith(`${binaryName}.`) && f.endsWith('.node')) rmSync(join(crate, f), { force: true });
}

let napiBin;
try {
  const require = createRequire(join(root, 'package.json'));
  const pkgPath = require.resolve('@napi-rs/cli/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.napi;
  if (bin) napiBin = join(dirname(pkgPath), bin);
} catch {
  napiBin = undefined;
}

let result;
if (napiBin && existsSync(napiBin)) {
  const napiArgs = ['build', '--platform', '--no-js', '--dts', 'target/matchlog.d.ts'];
  if (release) napiArgs.push('--release');
  console.log(`build-native: napi ${napiArgs.join(' ')} (in native/)`);
  result = run(process.execPath, [napiBin, ...napiArgs]);
} else {
  // No napi cli: a plain cargo build produces the same shared library.
  console.log('build-native: @napi-rs/cli not found, building with cargo directly');
  const cargoArgs = ['build'];
  if (release) cargoArgs.push('--release');
  result = run('cargo', cargoArgs);
  if (result.ok) {
    const lib = process.platform === 'win32' ? 'matchlog_native.dll'
      : process.platform === 'darwin' ? 'libmatchlog_native.dylib' : 'libmatchlog_native.so';
    const built = join(crate, 'target', release ? 'release' : 'debug', lib);
    if (existsSync(built)) copyFileSync(built, target);
    else result = { ok: false, why: `${built} not found after cargo build` };
  }
}
if (!result.ok) warn(`the Rust build failed (${result.why})`);
if (!existsSync(target)) warn(`the build finished but ${target} is missing`);

// Load it once in a child process: a broken addon must not be reported as built.
const probe = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(target)}); new m.NativeLadder();`], {
  encoding: 'utf8',
});
if (probe.status !== 0) warn(`built ${target} but it does not load: ${(probe.stderr || '').trim()}`);

const kb = Math.round(statSync(target).size / 1024);
console.log(`build-native: built ${target} (${kb} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
