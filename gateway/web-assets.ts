// The trading screen's static files (gateway/web/), served by the gateway at
// `/` of its HTTP port. Loaded once at start-up into memory: the set of paths
// is fixed, so a request can only ever name one of these files (no path from
// the URL reaches the file system), and a page is the same bytes for the
// whole life of the process.
//
// Where the files come from: the HTML, CSS and images are the source files in
// gateway/web/, served at the root (`/app.css`); the scripts are the compiled
// TypeScript at their place under dist/ (`/gateway/web/app.js`), plus every
// module they import, followed from their import statements (the page shares
// engine/decimal.ts with the engine: one decimal rule, not two).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page may load only what this server sends; nothing inline, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface WebAsset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/gateway/ when compiled: the repository root is two folders up. */
const ROOT = resolve(here, '..', '..');
const DIST = resolve(here, '..');

/**
 * Static imports of a compiled module: tsc writes each `import … from './x.js'`,
 * `import './x.js'` and `export … from './x.js'` on a line of its own, so only
 * lines that start with one count (a comment or a string that mentions a path
 * does not).
 */
const IMPORT = /^(?:import|export)\b[^'"\n]*?['"](\.{1,2}\/[^'"]+)['"];?\s*$/gm;

/**
 * URL path → asset. `index.html` is also `/`. Throws, naming the folder, when
 * the page was not built: a gateway without its page is a build error.
 */
export function loadWebAssets(sourceDir = join(ROOT, 'gateway', 'web'), distDir = join(DIST, 'gateway', 'web')): Map<string, WebAsset> {
  const assets = new Map<string, WebAsset>();
  const add = (urlPath: string, file: string): void => {
    const body = readFileSync(file);
    // a weak validator is enough: the bytes never change while the process runs
    const etag = `"${body.length.toString(16)}-${fnv1a(body).toString(16)}"`;
    assets.set(urlPath, { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag });
  };
  if (!existsSync(join(sourceDir, 'index.html'))) throw new Error(`the trading screen is missing: no index.html in ${sourceDir}`);
  for (const name of readdirSync(sourceDir)) {
    const ext = extname(name);
    if (ext !== '.js' && ext !== '.ts' && TYPES[ext] !== undefined) add(`/${name}`, join(sourceDir, name));
  }
  assets.set('/', assets.get('/index.html') as WebAsset);
  if (!existsSync(distDir)) throw new Error(`the trading screen's scripts are not built: ${distDir} is missing (run npm run build)`);
  // the page's modules and, transitively, what they import, at the URL the browser resolves them to
  const pending = readdirSync(distDir).filter((n) => n.endsWith('.js')).map((n) => join(distDir, n));
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    // every module keeps its place under dist/ (the page's are /gateway/web/*.js), so the
    // browser resolves a relative import to exactly the URL it is served at
    add(`/${relative(DIST, file).split(sep).join('/')}`, file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[1]);
      if (!target.startsWith(DIST + sep)) throw new Error(`${file} imports ${m[1]}, outside ${DIST}: the page may load only built modules`);
      pending.push(target);
    }
  }
  return assets;
}

function fnv1a(b: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h;
}
