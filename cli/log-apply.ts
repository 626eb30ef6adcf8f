// `matchlog apply --log DIR`: like `matchlog apply`, but every command goes
// through the sequencer into the log in DIR (appended after what is there)
// and its events are printed once it is durable. Seqs continue the log's.
// A line that cannot be logged (not JSON, wrong shape) takes no seq: it is
// answered with a rejection carrying seq 0.

import { createInterface } from 'node:readline';
import { formatEvent, type Command, type ExternalEvent } from '../engine/index.js';
import { ClosedError, Exchange, loadConfig, type Ack, type LogConfig } from '../log/index.js';
import { loadInstruments } from './apply.js';
import { parseOptions } from './args.js';
import { OutputBuffer } from './output.js';

const USAGE = `usage: matchlog apply --log DIR [--instruments FILE] [--config FILE] [--origin NAME] [--hash] < commands.jsonl > events.jsonl

  --log DIR           data directory of the log to append to (created if missing)
  --instruments FILE  JSON array of instruments, created through the log unless they exist
  --config FILE       log settings (see matchlog start --help); its instruments are not seeded
  --origin NAME       session id recorded with each command (default "apply")
  --hash              end with {"type":"stateHash","seq":...,"hash":...}
`;

interface Pending {
  lineNo: number;
  done: boolean;
  ack: Ack | null;
  error: Error | null;
  wait: Promise<void>;
}

function refusal(lineNo: number, text: string): ExternalEvent {
  return { type: 'rejected', seq: 0, account: '', clOrdId: '', symbol: '', reason: 'invalid_order', text: `line ${lineNo}: ${text}` };
}

export async function runWithLog(argv: string[]): Promise<number> {
  const opts = parseOptions('apply', USAGE, argv,
    { log: { type: 'string' }, instruments: { type: 'string' }, config: { type: 'string' }, origin: { type: 'string' }, hash: { type: 'boolean' } });
  if (typeof opts === 'number') return opts;
  if (opts.log === undefined) {
    process.stderr.write(`matchlog apply: --log DIR is required here\n${USAGE}`);
    return 2;
  }
  const origin = opts.origin ?? 'apply';
  let ex: Exchange;
  const fatal: { err: Error | null } = { err: null };
  try {
    const config: Partial<LogConfig> = opts.config !== undefined ? loadConfig(opts.config) : {};
    ex = await Exchange.open({
      dataDir: opts.log, config: { ...config, instruments: [] }, log: (l) => process.stderr.write(`matchlog: ${l}\n`),
      onFatal: (err) => { fatal.err = err; },
    });
  } catch (e) {
    process.stderr.write(`matchlog apply: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    if (opts.instruments !== undefined) {
      const specs: Command[] = [];
      const err = loadInstruments(opts.instruments, (cmd) => specs.push(cmd));
      if (err) throw new Error(err);
      for (const cmd of specs) {
        if (cmd.op !== 'instrument' || ex.engine.instrument(cmd.symbol) !== undefined) continue;
        const ack = await ex.submit(cmd, origin);
        const bad = ack.events.find((e) => e.type === 'rejected');
        if (bad && bad.type === 'rejected') throw new Error(`${opts.instruments}: instrument ${bad.symbol}: ${bad.text}`);
      }
    }
    const stoppedAt = await applyLines(ex, origin, opts.hash === true, fatal);
    if (fatal.err !== null) {
      // one clear error; no hash: the engine ran ahead of the log, and its state is one the log does not hold
      process.stderr.write(`matchlog apply: FATAL: ${fatal.err.message}. The log holds every command answered above (up to seq ${ex.seq}); `
        + `commands from line ${stoppedAt} on were not logged. The next start truncates the unacknowledged tail.\n`);
      await ex.close({ snapshot: false }).catch(() => undefined);
      return 1;
    }
  } catch (e) {
    process.stderr.write(`matchlog apply: ${(e as Error).message}\n`);
    await ex.close().catch(() => undefined);
    return 1;
  }
  await ex.close();
  return 0;
}

/**
 * Feeds stdin to the exchange; returns the line number of the first line that
 * did not become durable (after a log failure), or of the line after the last.
 */
async function applyLines(ex: Exchange, origin: string, hash: boolean, fatal: { err: Error | null }): Promise<number> {
  const out = new OutputBuffer(process.stdout);
  // answers are printed in input order; at most `window` commands wait for durability
  const window = Math.max(1, Math.floor(ex.config.queueCapacity / 2));
  const fifo: Pending[] = [];
  let head = 0;
  let firstLost = 0;
  const print = (p: Pending): void => {
    if (fatal.err !== null && p.error instanceof ClosedError) {
      // refused because the log failed: not an answer about the command itself
      if (firstLost === 0) firstLost = p.lineNo;
      return;
    }
    if (p.error !== null) {
      out.line(JSON.stringify(refusal(p.lineNo, p.error.message)));
      return;
    }
    for (const e of (p.ack as Ack).events) {
      const x = formatEvent(e, ex.engine);
      if (e.type === 'rejected' || e.type === 'cancelRejected') x.text = `line ${p.lineNo}: ${e.text}`;
      out.line(JSON.stringify(x));
    }
  };
  const flushDone = (): void => {
    while (head < fifo.length && fifo[head].done) print(fifo[head++]);
    if (head > 1024 && head * 2 > fifo.length) {
      fifo.splice(0, head);
      head = 0;
    }
  };
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    if (fatal.err !== null || out.closed) break; // the log failed, or the reader went away (| head)
    lineNo++;
    if (line.trim() === '') continue;
    let cmd: unknown;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      cmd = undefined;
      const p: Pending = { lineNo, done: true, ack: null, error: new Error(`not JSON: ${(e as Error).message}`), wait: Promise.resolve() };
      fifo.push(p);
      flushDone();
      continue;
    }
    const p: Pending = { lineNo, done: false, ack: null, error: null, wait: Promise.resolve() };
    p.wait = ex.submit(cmd, origin).then(
      (ack) => { p.ack = ack; p.done = true; },
      (err: Error) => { p.error = err; p.done = true; },
    );
    fifo.push(p);
    flushDone();
    if (fifo.length - head >= window) {
      await fifo[head].wait;
      flushDone();
    }
    await out.drained();
  }
  for (let i = head; i < fifo.length; i++) await fifo[i].wait;
  flushDone();
  if (fatal.err === null && hash) out.line(JSON.stringify({ type: 'stateHash', seq: ex.seq, hash: ex.engine.stateHash() }));
  await out.end();
  return firstLost > 0 ? firstLost : lineNo + 1;
}

/** Same as runWithLog, under the name `matchlog <command>` modules export. */
export const run = runWithLog;
