import { ladderInfo } from '../native/index.js';

export async function run(): Promise<number> {
  const i = ladderInfo();
  process.stdout.write(`price ladder: ${i.path}\nwhy: ${i.reason}\n${i.addon ? `addon: ${i.addon}\n` : ''}`);
  return 0;
}
