// Which ladder a fresh process picks, and why: the loader decides once per
// process, so its choices under an environment are seen from a child.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LadderProbe {
  status: number | null;
  out: string;
  err: string;
  /** The child's ladderInfo() and the kind of ladder ladderFactory() made ('threw: ...' if it threw). */
  parsed(): { info: { path: string; reason: string; addon?: string }; kind: string };
}

const INDEX = fileURLToPath(new URL('../native/index.js', import.meta.url));

/** Loads native/index.js in a child process with `env` added. */
export function probeLadder(env: Record<string, string>): LadderProbe {
  const script = `
    import { ladderFactory, ladderInfo } from ${JSON.stringify(INDEX)};
    const info = ladderInfo();
    let kind;
    try { kind = ladderFactory()().kind; } catch (e) { kind = 'threw: ' + e.message; }
    console.log(JSON.stringify({ info, kind }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  const out = r.stdout.trim();
  return { status: r.status, out, err: r.stderr, parsed: () => JSON.parse(out) as ReturnType<LadderProbe['parsed']> };
}
