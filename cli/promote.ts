// `matchlog promote --data DIR`: asks the replica running on DIR, through its
// admin endpoint (a Unix socket in DIR: only who can reach the folder can
// promote), to become the primary. Prints the new epoch and seq.

import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { parseOptions } from './args.js';
import { adminSocketPath } from './exchange-node.js';

const USAGE = `usage: matchlog promote --data DIR

  --data DIR   the data directory of the running replica to promote

It stops following its primary, appends an epoch record (epoch + 1, or the
coordinator's) with its next command, opens order entry, and tells the former
primary it is fenced. Exit 0 once order entry is open.
`;

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('promote', USAGE, argv, { data: { type: 'string' } });
  if (typeof opts === 'number') return opts;
  if (opts.data === undefined) {
    process.stderr.write(`matchlog promote: --data DIR is required\n${USAGE}`);
    return 2;
  }
  const socketPath = adminSocketPath(opts.data);
  if (!existsSync(socketPath)) {
    process.stderr.write(`matchlog promote: no node is running on ${opts.data} (no admin endpoint ${socketPath})\n`);
    return 1;
  }
  const t0 = performance.now();
  const answer = await new Promise<{ status: number; body: string } | Error>((resolve) => {
    const req = request({ socketPath, path: '/admin/promote', method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve(e));
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.end();
  });
  if (answer instanceof Error) {
    process.stderr.write(`matchlog promote: the node on ${opts.data} did not answer (${answer.message})\n`);
    return 1;
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    body = { error: answer.body };
  }
  if (answer.status !== 200) {
    process.stderr.write(`matchlog promote: not promoted: ${String(body.error ?? answer.status)}\n`);
    return 1;
  }
  process.stdout.write(`matchlog: promoted ${opts.data}: primary at epoch ${String(body.epoch)} from seq ${String(body.seq)}, gateway ${String(body.gateway)} (${(performance.now() - t0).toFixed(0)} ms)\n`);
  return 0;
}
