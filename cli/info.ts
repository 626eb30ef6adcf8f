import { lockInfo } from '../log/lock.js';
import { DEFAULT_LADDER_WHY, ladderInfo } from '../native/index.js';
import { parseOptions } from './args.js';

const USAGE = `usage: matchlog info

  Says which price ladder this process uses, the native (Rust) addon or the
  TypeScript one, and why. MATCHLOG_NATIVE=0 forces the TypeScript ladder;
  MATCHLOG_NATIVE=1 requires the addon (commands fail without it).
`;

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('info', USAGE, argv, {});
  if (typeof opts === 'number') return opts;
  const i = ladderInfo();
  const l = lockInfo();
  process.stdout.write(`price ladder: ${i.path}\nwhy: ${i.reason}\n${i.addon ? `addon: ${i.addon}\n` : ''}default: ${DEFAULT_LADDER_WHY}\n` +
    `data-directory lock: ${l.kind} (${l.reason})\n`);
  return 0;
}
