// Chooses the price ladder: the Rust addon (native/matchlog.<platform>.node,
// built by `node scripts/build-native.mjs`) or the pure TypeScript TsLadder.
//
//   MATCHLOG_NATIVE=0         always the TypeScript ladder
//   MATCHLOG_NATIVE=1         the addon is required: ladderFactory() throws when it is missing
//   (unset)                   the addon when it loads, else the TypeScript ladder
//   MATCHLOG_NATIVE_ADDON=... load the addon from this file instead of searching for it
//
// An addon whose io layout and op codes (its layout() export) differ from this
// build's (layout.ts), or that exports none, is refused like one that does not
// load: the reason names each differing field, expected and found.
//
// Both honour the same `Ladder` interface (native/ladder.ts) and are tested
// against each other (test/ladder-diff.test.ts), so the choice never changes an
// outcome, only the speed.

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BUY, IO_COUNT, IO_RESULT, SELL, type Ladder, type LadderFactory, type Side } from './ladder.js';
import {
  IO_ARGS, IO_BEST, IO_BEST_BOOK, layoutRefusal, OP_ADD, OP_ADD_BOOK, OP_BEST, OP_FILLABLE, OP_LEVEL_COUNT,
  OP_LEVEL_ORDERS, OP_LEVEL_QTY, OP_MATCH, OP_ORDER_COUNT, OP_PRICE_OF, OP_QTY_OF, OP_REDUCE, OP_REMOVE,
} from './layout.js';
import { TsLadder } from './ts-ladder.js';

/** The native ladder: the Ladder interface plus an invariant check for tests. */
export interface NativeLadder extends Ladder {
  /** Walks every level and queue and throws if an aggregate or link is wrong (slow). */
  check(): void;
}

/** What the addon's class offers (src/binding.rs): the io buffer, the hot function and the bulky outputs. */
interface AddonLadder {
  readonly kind: string;
  readonly id: number;
  io(): Float64Array;
  depth(book: number, side: Side, n: number, out: Float64Array): number;
  handles(book: number, side: Side): Uint32Array;
  check(): void;
}

/** The hot function, one for all ladders, and the selector it reads the ladder's id from. */
interface Hot {
  run: () => void;
  /** Float64Array(1): the id of the ladder the next run() works on. */
  selector: Float64Array;
}

interface Addon {
  NativeLadder: new () => AddonLadder;
  /** The hot function and its selector (src/binding.rs `hot`). */
  hot(): unknown;
  /** The io layout and op codes the addon speaks (layout.ts); absent in builds that predate it. */
  layout?: () => unknown;
  /** Bytes the addon's heap holds (src/heap.rs); absent in builds that predate it. */
  heapBytes?: () => number;
}

// The hot function's protocol (src/binding.rs): the ladder's id in selector[0], op code at
// io[A], operands at io[A + 1..], a query's answer at io[IO_RESULT]; add/remove/reduce/match
// answer as the Ladder interface says.
// The op codes and IO_ARGS live in layout.ts, checked against the addon's layout() at load.
const A = IO_ARGS;

/**
 * The Rust ladder behind the Ladder interface. Every scalar operation writes its
 * op code and operands into the ladder's io buffer (memory the addon owns) and the
 * ladder's id into the selector (shared by all ladders), then calls the addon's hot
 * function without arguments: one N-API crossing, nothing converted by N-API,
 * nothing allocated, the answer read back from io. The same
 * function serves every ladder, so the call site stays monomorphic however many
 * books exist. Only depth and handles (variable-sized outputs, off the hot path)
 * are class methods.
 */
class RustLadder implements NativeLadder {
  readonly kind = 'native';
  readonly io: Float64Array;
  private readonly id: number;
  private readonly sel: Float64Array;
  private readonly hot: () => void;

  constructor(private readonly n: AddonLadder, h: Hot) {
    this.io = n.io();
    this.id = n.id;
    this.sel = h.selector;
    this.hot = h.run;
  }

  private run(): void {
    this.sel[0] = this.id;
    this.hot();
  }

  addBook(): number {
    this.io[A] = OP_ADD_BOOK;
    this.run();
    return this.io[IO_RESULT];
  }

  add(book: number, side: Side, price: number, qty: number, owner: number, handle: number): void {
    const io = this.io;
    io[A] = OP_ADD;
    io[A + 1] = book;
    io[A + 2] = side;
    io[A + 3] = price;
    io[A + 4] = qty;
    io[A + 5] = owner;
    io[A + 6] = handle;
    this.run();
  }

  remove(handle: number): void {
    const io = this.io;
    io[A] = OP_REMOVE;
    io[A + 1] = handle;
    this.run();
  }

  reduce(handle: number, qty: number): void {
    const io = this.io;
    io[A] = OP_REDUCE;
    io[A + 1] = handle;
    io[A + 2] = qty;
    this.run();
  }

  match(book: number, side: Side, limit: number, want: number, owner: number, cap: number, rest: boolean, handle: number): number {
    const io = this.io;
    io[A] = OP_MATCH;
    io[A + 1] = book;
    io[A + 2] = side;
    io[A + 3] = limit;
    io[A + 4] = want;
    io[A + 5] = owner;
    io[A + 6] = cap;
    io[A + 7] = rest ? 1 : 0;
    io[A + 8] = handle;
    this.run();
    return io[IO_COUNT] | 0; // at most FILL_CAPACITY: an int32, as in TsLadder
  }

  fillable(book: number, side: Side, limit: number, want: number, owner: number, stopAtOwner: boolean): number {
    const io = this.io;
    io[A] = OP_FILLABLE;
    io[A + 1] = book;
    io[A + 2] = side;
    io[A + 3] = limit;
    io[A + 4] = want;
    io[A + 5] = owner;
    io[A + 6] = stopAtOwner ? 1 : 0;
    this.run();
    return io[IO_RESULT];
  }

  private query(op: number, x: number, y: number, z: number): number {
    const io = this.io;
    io[A] = op;
    io[A + 1] = x;
    io[A + 2] = y;
    io[A + 3] = z;
    this.run();
    return io[IO_RESULT];
  }

  best(book: number, side: Side): number {
    // the addon publishes the best prices of the book the last add/remove/match touched
    // (layout.ts IO_BEST, IO_BEST_BOOK): for that book, no crossing. Another book, a bad
    // side, or +Infinity (the ladder is unusable) takes the crossing, which answers or
    // throws as before.
    const io = this.io;
    if (io[IO_BEST_BOOK] === book && (side === BUY || side === SELL)) {
      const b = io[IO_BEST + side];
      if (b !== Infinity) return b;
    }
    return this.query(OP_BEST, book, side, 0);
  }
  levelQty(book: number, side: Side, price: number): number { return this.query(OP_LEVEL_QTY, book, side, price); }
  levelOrders(book: number, side: Side, price: number): number { return this.query(OP_LEVEL_ORDERS, book, side, price); }
  levelCount(book: number, side: Side): number { return this.query(OP_LEVEL_COUNT, book, side, 0); }
  orderCount(book: number): number { return this.query(OP_ORDER_COUNT, book, 0, 0); }
  qtyOf(handle: number): number { return this.query(OP_QTY_OF, handle, 0, 0); }
  priceOf(handle: number): number { return this.query(OP_PRICE_OF, handle, 0, 0); }
  depth(book: number, side: Side, n: number, out: Float64Array): number { return this.n.depth(book, side, n, out); }
  handles(book: number, side: Side): Uint32Array { return this.n.handles(book, side); }
  check(): void { this.n.check(); }
}

export interface LadderInfo {
  path: 'native' | 'ts';
  reason: string;
  /** The addon file, when one was found (loaded or not). */
  addon?: string;
}

const BINARY = 'matchlog';

/** The napi-rs platform suffix of this process, e.g. linux-x64-gnu, darwin-arm64. */
function platformSuffix(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const report: unknown = process.report?.getReport();
    const header: unknown = typeof report === 'object' && report !== null && 'header' in report ? report.header : undefined;
    const glibc = typeof header === 'object' && header !== null && 'glibcVersionRuntime' in header;
    const abi = glibc ? 'gnu' : 'musl';
    return arch === 'arm' ? `linux-arm-${abi}eabihf` : `linux-${arch}-${abi}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** Addon files to try, best guess first. */
function candidates(): string[] {
  const override = process.env.MATCHLOG_NATIVE_ADDON;
  if (override) return [override];
  // Compiled, this module is dist/native/index.js and the addon lives in <repo>/native/;
  // run from source (or copied next to the addon) it is in the same folder.
  const dirs = [new URL('../../native/', import.meta.url), new URL('./', import.meta.url)].map((u) => fileURLToPath(u));
  const names = [`${BINARY}.${platformSuffix()}.node`, `${BINARY}.node`];
  const out: string[] = [];
  for (const dir of dirs) {
    for (const n of names) out.push(dir + n);
    // any other build of the addon (another platform triple: loading it explains the failure)
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch {
      files = [];
    }
    for (const f of files.sort()) {
      if (f.startsWith(`${BINARY}.`) && f.endsWith('.node') && !names.includes(f)) out.push(dir + f);
    }
  }
  return [...new Set(out)];
}

function isAddon(m: unknown): m is Addon {
  return typeof m === 'object' && m !== null && 'NativeLadder' in m && typeof m.NativeLadder === 'function' &&
    'hot' in m && typeof m.hot === 'function';
}

function isHot(h: unknown): h is Hot {
  return typeof h === 'object' && h !== null && 'run' in h && typeof h.run === 'function' &&
    'selector' in h && h.selector instanceof Float64Array && h.selector.length === 1;
}

/** The addon speaks another io layout than this build (layoutRefusal says why). */
class LayoutRefused extends Error {}

type LoadResult =
  | { ok: true; addon: Addon; file: string; hot: Hot }
  | { ok: false; reason: string; file?: string };

let loaded: LoadResult | undefined;

function loadAddon(): LoadResult {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let firstError: { reason: string; file: string } | undefined;
  for (const file of candidates()) {
    if (!existsSync(file)) continue;
    try {
      const m: unknown = require(file);
      if (!isAddon(m)) throw new Error('it does not export a NativeLadder class and a hot function');
      // before the first call: with another layout even the probe below would read the wrong slots
      let found: unknown;
      try {
        found = typeof m.layout === 'function' ? m.layout() : undefined;
      } catch (e) {
        throw new LayoutRefused(`the addon's layout() threw (${e instanceof Error ? e.message : String(e)}): rebuild it`);
      }
      const refusal = layoutRefusal(found);
      if (refusal !== null) throw new LayoutRefused(refusal);
      const hot = m.hot();
      if (!isHot(hot)) throw new Error('its hot() does not answer { run, selector }: rebuild it (node scripts/build-native.mjs)');
      // must construct and answer, or it is of no use
      const probe = new RustLadder(new m.NativeLadder(), hot);
      probe.orderCount(probe.addBook());
      loaded = { ok: true, addon: m, file, hot };
      return loaded;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      firstError ??= { reason: e instanceof LayoutRefused ? `refused ${file}: ${why}` : `failed to load ${file}: ${why}`, file };
    }
  }
  loaded = firstError
    ? { ok: false, reason: firstError.reason, file: firstError.file }
    : { ok: false, reason: 'native addon not built (run `node scripts/build-native.mjs`; needs cargo)' };
  return loaded;
}

/** True when the Rust addon is built and loads in this process. */
export function nativeAvailable(): boolean {
  return loadAddon().ok;
}

/**
 * The file of the addon that loads in this process, whichever ladder
 * MATCHLOG_NATIVE picks (ladderInfo names it only when it is the one in use).
 */
export function nativeAddonFile(): string | undefined {
  const r = loadAddon();
  return r.ok ? r.file : undefined;
}

function nativeLadder(): NativeLadder {
  const r = loadAddon();
  if (!r.ok) throw new Error(`matchlog: the native ladder is unavailable: ${r.reason}`);
  return new RustLadder(new r.addon.NativeLadder(), r.hot);
}

/**
 * Bytes the Rust addon holds on its own heap (its ladders' slots, levels,
 * trees and maps; counted by its allocator), 0 when it is not loaded: with the
 * JS heap and the typed arrays, the engine's memory all-in.
 */
export function nativeHeapBytes(): number {
  if (process.env.MATCHLOG_NATIVE === '0') return 0;
  const r = loadAddon();
  return r.ok && typeof r.addon.heapBytes === 'function' ? r.addon.heapBytes() : 0;
}

/** The addon's data-directory lock (src/lock.rs, src/lock_binding.rs). */
export interface NativeLockFns {
  /**
   * Opens `path` (created if missing), takes an exclusive non-blocking flock on it and
   * keeps the descriptor (close-on-exec) open; writes `holder` into the file. Answers
   * the lock's id, or null when another holder has it; throws with the errno text otherwise.
   */
  lockAcquire(path: string, holder: string): number | null;
  /** Empties the file and releases lock `id`; false when it is not held. */
  lockRelease(id: number): boolean;
}

/**
 * The addon's lock functions, or null: with MATCHLOG_NATIVE=0, when the addon is not
 * built or does not load, or when the loaded build predates the lock. Never throws.
 */
export function nativeLock(): NativeLockFns | null {
  if (process.env.MATCHLOG_NATIVE === '0') return null;
  const r = loadAddon();
  if (!r.ok) return null;
  const m: unknown = r.addon;
  if (typeof m !== 'object' || m === null || !('lockAcquire' in m) || !('lockRelease' in m)) return null;
  const { lockAcquire, lockRelease } = m;
  if (typeof lockAcquire !== 'function' || typeof lockRelease !== 'function') return null;
  return { lockAcquire: lockAcquire as NativeLockFns['lockAcquire'], lockRelease: lockRelease as NativeLockFns['lockRelease'] };
}

/**
 * Which ladder ladderFactory() hands out, and why (for `matchlog info`). Never
 * throws: with MATCHLOG_NATIVE=1 and no addon it reports path 'ts' and a reason
 * saying that ladderFactory() throws.
 */
export function ladderInfo(): LadderInfo {
  const env = process.env.MATCHLOG_NATIVE;
  if (env === '0') return { path: 'ts', reason: 'MATCHLOG_NATIVE=0 forces the TypeScript ladder' };
  const r = loadAddon();
  if (r.ok) {
    return {
      path: 'native',
      reason: env === '1' ? 'MATCHLOG_NATIVE=1 requires the native ladder; addon loaded' : 'native addon loaded',
      addon: r.file,
    };
  }
  const info: LadderInfo =
    env === '1'
      ? { path: 'ts', reason: `MATCHLOG_NATIVE=1 but the native ladder is unavailable, ladderFactory() throws: ${r.reason}` }
      : { path: 'ts', reason: `falling back to the TypeScript ladder: ${r.reason}` };
  if (r.file !== undefined) info.addon = r.file;
  return info;
}

/**
 * Why the addon, when it loads, is the default ladder: chosen by measurement
 * on the mixed workload (the ladders agree exactly, so only speed decides),
 * repeated by `npm run bench` (mixed, sweeps) and `node dist/bench/ladder.bench.js`.
 */
export const DEFAULT_LADDER_WHY =
  'the native ladder is the default when it loads: on the mixed workload it ran 1.04-1.08x the TS ladder ' +
  '(three runs, 1.54-1.58M vs 1.45-1.52M commands/s, one ladder per engine, ' +
  'this project\'s 2-core VM, 2026-11-23), a deep sweep\'s command 1.29x and its walk 4.2x ' +
  '(npm run bench; node dist/bench/ladder.bench.js); ' +
  'MATCHLOG_NATIVE=0 picks the TS ladder';

/**
 * The default ladder constructor: native when built (unless MATCHLOG_NATIVE=0);
 * throws when MATCHLOG_NATIVE=1 and the addon is missing or does not load.
 */
export function ladderFactory(): LadderFactory {
  const env = process.env.MATCHLOG_NATIVE;
  if (env === '0') return () => new TsLadder();
  const r = loadAddon();
  if (r.ok) {
    const Ctor = r.addon.NativeLadder;
    const hot = r.hot;
    return () => new RustLadder(new Ctor(), hot);
  }
  if (env === '1') throw new Error(`matchlog: MATCHLOG_NATIVE=1 but the native ladder is unavailable: ${r.reason}`);
  return () => new TsLadder();
}

/** A ladder of the given kind, or of the default kind (see ladderFactory) when omitted. */
export function createLadder(kind?: 'ts' | 'native'): Ladder {
  if (kind === 'ts') return new TsLadder();
  if (kind === 'native') return nativeLadder();
  return ladderFactory()();
}

/** A native ladder with its test-only `check()`; throws when the addon is unavailable. */
export function createNativeLadder(): NativeLadder {
  return nativeLadder();
}
