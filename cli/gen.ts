// `matchlog gen`: a synthetic trading day written through the sequencer into
// a new log folder (gen/day.ts), with planted abuse listed in planted.json.

import { generateDay, minimumCommands } from '../gen/day.js';
import { parseOptions } from './args.js';

const USAGE = `usage: matchlog gen --out DIR --commands N --symbols S --seed X --date YYYY-MM-DD [--accounts A]

Writes a synthetic trading day into DIR (new or empty) through the real
sequencer and log: segments, indexes, a snapshot every N/20 commands (at
least 5,000 apart, at most 50,000). Times span the date's session, 09:30-16:00 America/New_York,
busiest at the open and the close; instruments with varied grids (equities,
a crypto and an FX pair) are the first commands. The same arguments give
byte-identical files.

  --out DIR          the folder to create (refused if it holds anything)
  --commands N       commands in the log, instruments and planted ones included (at least 10,000)
  --symbols S        instruments (1-1000)
  --seed X           integer seed (0 to 2^32-1)
  --date YYYY-MM-DD  the trading date (the session's time zone)
  --accounts A       ordinary accounts (default 400; planted abuse uses 11 more)

Also written: DIR/planted.json (the abuse patterns planted: kind, account,
symbol, seqs, times) and DIR/related.json ({"groups": [[account, ...], ...]}:
accounts declared related, for matchlog surveil's wash-trade rule).
`;

function integer(name: string, v: string | undefined, min: number, max: number): number | string {
  if (v === undefined) return `--${name} is required`;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) return `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`;
  return Number(v);
}

export async function run(argv: string[]): Promise<number> {
  const v = parseOptions('gen', USAGE, argv, {
    out: { type: 'string' }, commands: { type: 'string' }, symbols: { type: 'string' }, seed: { type: 'string' },
    date: { type: 'string' }, accounts: { type: 'string' },
  });
  if (typeof v === 'number') return v;
  const symbols = integer('symbols', v.symbols, 1, 1000);
  const commands = integer('commands', v.commands, typeof symbols === 'number' ? minimumCommands(symbols) : 10_000, 2 ** 52);
  const seed = integer('seed', v.seed, 0, 2 ** 32 - 1);
  const accounts = v.accounts === undefined ? 400 : integer('accounts', v.accounts, 2, 100_000);
  const problems = [
    v.out === undefined || v.out === '' ? '--out is required' : null,
    v.date === undefined ? '--date is required' : /^\d{4}-\d{2}-\d{2}$/.test(v.date) ? null : `--date must be YYYY-MM-DD, got ${JSON.stringify(v.date)}`,
    ...[commands, symbols, seed, accounts].map((x) => (typeof x === 'string' ? x : null)),
  ].filter((p): p is string => p !== null);
  if (problems.length > 0) {
    process.stderr.write(`matchlog gen: ${problems[0]}\n${USAGE}`);
    return 2;
  }
  const r = await generateDay({
    out: v.out as string, commands: commands as number, symbols: symbols as number, seed: seed as number,
    date: v.date as string, accounts: accounts as number,
  });
  process.stderr.write(`gen: ${r.blocks.toLocaleString('en-US')} blocks, ${r.planted.length} planted patterns in ${v.out}/planted.json\n`);
  return 0;
}
