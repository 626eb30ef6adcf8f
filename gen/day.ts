// A synthetic trading day written through the real sequencer and log: the
// folder is an ordinary matchlog data directory (segments, indexes,
// snapshots), plus planted.json (the abuse planted in it) and related.json
// (the declared related accounts). The same options give the same bytes:
// the clock is the generated arrival times, the log id and sync markers come
// from the seed, and blocks are formed deterministically (below).
//
// Blocks: arrivals are grouped by time (a block holds what arrives within
// one quantum, at most MAX_BATCH commands) and a group is submitted in one
// turn of the event loop, only once the previous group has been built into a
// block, so that it becomes exactly one block whatever the disk's timing.
// The sequencer asks its clock once per command it stamps: it returns that
// command's generated arrival time. The generator decides from the exchange's
// events two groups back (never from whatever happens to be acknowledged
// already), so its choices do not depend on timing either.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Command } from '../engine/index.js';
import { Exchange } from '../log/exchange.js';
import type { Ack } from '../log/sequencer.js';
import { Progress } from '../replay/progress.js';
import { US_EQUITY_SESSION, zonedTime, type SessionHours } from '../replay/surveillance/session.js';
import { Arrivals } from './arrivals.js';
import { NormalFlow } from './flow.js';
import { makeInstruments } from './instruments.js';
import { Market } from './market.js';
import { MarkingTheClose, OrderToTrade, Spoofing, WashTrades, type PlantContext, type PlantedPattern, type Scenario, type Step } from './planted.js';
import { prng, seededBytes } from './prng.js';

export interface DayOptions {
  out: string;
  commands: number;
  symbols: number;
  seed: number;
  /** YYYY-MM-DD, in the session's time zone. */
  date: string;
  accounts: number;
  session?: SessionHours;
  /** Operator lines (the exchange's snapshot messages); default stderr. */
  log?: (line: string) => void;
  /** Progress bar and throughput line on stderr (default true). */
  progress?: boolean;
}

export interface DayResult {
  commands: number;
  blocks: number;
  planted: PlantedPattern[];
  related: string[][];
  seconds: number;
}

/** Commands of one block at most (well under the sequencer's maxBlockRecords and maxBlockBytes). */
const MAX_BATCH = 4096;
export const PLANTED_FILE = 'planted.json';
export const RELATED_FILE = 'related.json';
/** Accounts the planted scenarios use: 3 spoofers, 2 order-to-trade, 2 wash pairs, 2 markers of the close. */
const PLANTED_ACCOUNTS = 11;

function accountName(i: number): string {
  return `ACC${String(i + 1).padStart(4, '0')}`;
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The fewest commands a day can have: the planted patterns need room in the flow. */
export function minimumCommands(symbols: number): number {
  return Math.max(10_000, symbols * 200);
}

export async function generateDay(o: DayOptions): Promise<DayResult> {
  if (existsSync(o.out) && readdirSync(o.out).length > 0) {
    const hasLog = readdirSync(o.out).some((f) => f.endsWith('.avro'));
    throw new Error(`${o.out} ${hasLog ? 'already holds a log' : 'is not empty'}: gen writes a new day into an empty or new folder, it never appends`);
  }
  const session = o.session ?? US_EQUITY_SESSION;
  const open = zonedTime(o.date, session.open, session.timeZone);
  const close = zonedTime(o.date, session.close, session.timeZone);
  const rnd = prng(o.seed);
  const plantRnd = prng(o.seed ^ 0x5bd1e995);

  const instruments = makeInstruments(o.symbols, o.commands, rnd);
  const names = shuffle(Array.from({ length: o.accounts + PLANTED_ACCOUNTS }, (_, i) => accountName(i)), rnd);
  const plantedAccounts = names.slice(0, PLANTED_ACCOUNTS);
  const normal = names.slice(PLANTED_ACCOUNTS);
  const market = new Market(instruments, rnd);
  const flow = new NormalFlow(market, normal, rnd);

  const cx: PlantContext = {
    market, flow, rnd: plantRnd, open, close,
    // a counterparty from the quieter half: nobody's accomplice
    anyone: () => normal[Math.floor(normal.length / 2 + plantRnd() * (normal.length / 2))],
  };
  const span = close - open;
  const symbolOf = (): number => Math.floor(plantRnd() * instruments.length);
  const at = (lo: number, hi: number): number => open + span * (lo + (hi - lo) * plantRnd());
  const [s1, s2, s3, o1, o2, w1a, w1b, w2a, w2b, m1, m2] = plantedAccounts;
  const otrOrders = Math.max(250, Math.floor(o.commands / 2500));
  const scenarios: Scenario[] = [
    new Spoofing(cx, s1, symbolOf(), at(0.1, 0.3), 'buy'),
    new Spoofing(cx, s2, symbolOf(), at(0.35, 0.6), 'sell'),
    new Spoofing(cx, s3, symbolOf(), at(0.65, 0.9), plantRnd() < 0.5 ? 'buy' : 'sell'),
    new OrderToTrade(cx, o1, symbolOf(), otrOrders),
    new OrderToTrade(cx, o2, symbolOf(), otrOrders),
    new WashTrades(cx, w1a, w1b, symbolOf(), [at(0.1, 0.3), at(0.4, 0.6), at(0.7, 0.9)]),
    new WashTrades(cx, w2a, w2b, symbolOf(), [at(0.1, 0.3), at(0.4, 0.6), at(0.7, 0.9)]),
    new MarkingTheClose(cx, m1, 0, 'buy'),
    new MarkingTheClose(cx, m2, instruments.length > 1 ? 1 : 0, instruments.length > 1 ? 'sell' : 'buy'),
  ];
  // stable: steps at the same time keep their scenario's order
  const steps: Step[] = scenarios.flatMap((s) => s.steps).sort((a, b) => a.at - b.at);
  const quietHalf = normal.slice(Math.floor(normal.length / 2));
  const related: string[][] = [
    [w1a, w1b], [w2a, w2b],
    // innocent relations: accounts of one owner that trade independently
    [quietHalf[0], quietHalf[1]], [quietHalf[2], quietHalf[3], quietHalf[4]], [quietHalf[5], quietHalf[6]],
  ];

  const minimum = minimumCommands(o.symbols);
  const normalCount = o.commands - instruments.length - steps.length;
  if (o.commands < minimum || normalCount < o.commands / 2) {
    throw new Error(`--commands ${o.commands} is too few for ${o.symbols} symbols and the planted patterns (at least ${minimum})`);
  }
  const arrivals = new Arrivals(normalCount, open, close, prng(o.seed ^ 0x27d4eb2f));

  // the sequencer calls the clock once per command it stamps: command k gets times[k]
  const times: number[] = [];
  let built = 0;
  const ex = await Exchange.open({
    dataDir: o.out, seedInstruments: false, node: 'gen', random: seededBytes(o.seed ^ 0x165667b1), log: o.log,
    clock: () => times[built++],
    config: {
      instruments: [],
      // a snapshot every 1/20 of the day, at least every 50,000 commands: the book as of any moment replays at most that many
      snapshotEvery: Math.min(50_000, Math.max(5_000, Math.round(o.commands / 20))), keepSnapshots: 1_000_000,
    },
  });
  const progress = o.progress === false ? null : new Progress('gen', o.commands, 'commands');
  const started = performance.now();
  const pending: { acks: Promise<Ack[]>; steps: (Step | null)[] }[] = [];
  let submitted = 0;
  let blocks = 0;

  const learn = async (): Promise<void> => {
    const b = pending.shift();
    if (b === undefined) return;
    const acks = await b.acks;
    for (let k = 0; k < acks.length; k++) {
      market.learn(acks[k].events);
      b.steps[k]?.acked(acks[k]);
    }
  };
  const submit = async (cmds: Command[], batchSteps: (Step | null)[], cmdTimes: number[]): Promise<void> => {
    // the previous group must be in a block of its own before this one is queued
    while (built < submitted) await nextTurn();
    // a periodic snapshot is never skipped for being still written
    await ex.snapshotsWritten();
    for (const t of cmdTimes) times.push(t);
    blocks++;
    const origin = 'gen';
    pending.push({ acks: Promise.all(cmds.map((c) => ex.submit(c, origin))), steps: batchSteps });
    submitted += cmds.length;
    progress?.update(submitted);
  };

  try {
    await submit(instruments.map((i) => i.command), instruments.map(() => null), instruments.map(() => open));
    // a block per quantum of the session: at most ~20,000 durable writes for a day however long
    const quantum = span / Math.max(Math.min(o.commands / 64, 20_000), Math.min(o.commands, 4_000));
    let next = 0; // normal arrivals taken
    let nextAt = normalCount > 0 ? arrivals.at(0) : Infinity;
    let s = 0; // planted steps taken
    while (next < normalCount || s < steps.length) {
      if (pending.length >= 2) await learn();
      const cmds: Command[] = [];
      const batchSteps: (Step | null)[] = [];
      const cmdTimes: number[] = [];
      let start = -1;
      for (;;) {
        const planted = s < steps.length && steps[s].at <= nextAt;
        const t = planted ? steps[s].at : nextAt;
        if (t === Infinity || cmds.length >= MAX_BATCH || (start >= 0 && t - start >= quantum)) break;
        if (start < 0) start = t;
        cmdTimes.push(Math.max(t, open));
        if (planted) {
          cmds.push(steps[s].make());
          batchSteps.push(steps[s++]);
        } else {
          cmds.push(flow.next());
          batchSteps.push(null);
          next++;
          nextAt = next < normalCount ? arrivals.at(next) : Infinity;
        }
      }
      await submit(cmds, batchSteps, cmdTimes);
    }
    while (pending.length > 0) await learn();
  } finally {
    await ex.close();
  }
  const planted = scenarios.map((sc) => sc.result()).filter((p): p is PlantedPattern => p !== null);
  writeFileSync(join(o.out, PLANTED_FILE), `${JSON.stringify(planted, null, 2)}\n`);
  writeFileSync(join(o.out, RELATED_FILE), `${JSON.stringify({ groups: related }, null, 2)}\n`);
  progress?.finish(submitted, 'commands');
  return { commands: submitted, blocks, planted, related, seconds: (performance.now() - started) / 1000 };
}
