import { lockInfo } from '../log/lock.js';
import { ladderInfo } from '../native/index.js';

export async function run(): Promise<number> {
  const i = ladderInfo();
  const l = lockInfo();
  process.stdout.write(`price ladder: ${i.path}\nwhy: ${i.reason}\n${i.addon ? `addon: ${i.addon}\n` : ''}` +
    `data-directory lock: ${l.kind} (${l.reason})\n`);
  return 0;
}
