// `matchlog apply`: the engine alone. JSON-lines commands on stdin, JSON-lines
// events on stdout; no log, no network. Each command's seq is its 1-based
// number among the non-blank lines.

import { readJsonFile } from '../log/json-file.js';
import { createInterface } from 'node:readline';
import { createEngine, formatEvent, type Command, type EngineEvent } from '../engine/index.js';
import { parseOptions } from './args.js';
import { OutputBuffer } from './output.js';

const USAGE = `usage: matchlog apply [--instruments FILE] [--hash] < commands.jsonl > events.jsonl

  --instruments FILE  JSON array of instrument objects, loaded before stdin
  --hash              end with {"type":"stateHash","seq":...,"hash":...}
  --log DIR           go through the sequencer and the command log in DIR instead
                      (see matchlog apply --log DIR --help)
`;

export async function run(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--log' || a.startsWith('--log='))) return (await import('./log-apply.js')).runWithLog(argv);
  const opts = parseOptions('apply', USAGE, argv, { instruments: { type: 'string' }, hash: { type: 'boolean' } });
  if (typeof opts === 'number') return opts;
  const engine = createEngine();
  const events: EngineEvent[] = [];
  if (opts.instruments !== undefined) {
    const err = loadInstruments(opts.instruments, (cmd) => engine.apply(cmd, 0, events));
    if (err) {
      process.stderr.write(`matchlog apply: ${err}\n`);
      return 2;
    }
    const bad = events.find((e) => e.type === 'rejected');
    if (bad && bad.type === 'rejected') {
      process.stderr.write(`matchlog apply: ${opts.instruments}: instrument ${bad.symbol}: ${bad.text}\n`);
      return 2;
    }
    events.length = 0;
  }
  const out = new OutputBuffer(process.stdout);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNo = 0;
  let seq = 0;
  for await (const line of lines) {
    if (out.closed) break; // the reader went away (| head): stop quietly
    lineNo++;
    if (line.trim() === '') continue;
    seq++;
    let cmd: Command;
    try {
      cmd = JSON.parse(line) as Command;
    } catch (e) {
      out.line(JSON.stringify({ type: 'rejected', seq, account: '', clOrdId: '', symbol: '', reason: 'invalid_order', text: `line ${lineNo}: not JSON: ${(e as Error).message}` }));
      continue;
    }
    if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd)) {
      out.line(JSON.stringify({ type: 'rejected', seq, account: '', clOrdId: '', symbol: '', reason: 'invalid_order', text: `line ${lineNo}: a command must be a JSON object` }));
      continue;
    }
    events.length = 0;
    engine.apply(cmd, seq, events);
    for (const e of events) {
      const x = formatEvent(e, engine);
      if (e.type === 'rejected' || e.type === 'cancelRejected') x.text = `line ${lineNo}: ${e.text}`;
      out.line(JSON.stringify(x));
    }
    await out.drained();
  }
  if (opts.hash) out.line(JSON.stringify({ type: 'stateHash', seq, hash: engine.stateHash() }));
  await out.end();
  return 0;
}

/** Feeds each instrument of a JSON array file to `apply`; returns an error naming the file, or null. */
export function loadInstruments(file: string, apply: (cmd: Command) => void): string | null {
  let list: unknown;
  try {
    list = readJsonFile(file);
  } catch (e) {
    return (e as Error).message;
  }
  if (!Array.isArray(list)) return `${file}: expected a JSON array of instruments`;
  for (const [i, spec] of list.entries()) {
    if (spec === null || typeof spec !== 'object') return `${file}: entry ${i} is not an object`;
    apply({ ...(spec as object), op: 'instrument' } as Command);
  }
  return null;
}
