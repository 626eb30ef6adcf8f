// `node scripts/plant-decoder-bugs.mjs` after a build: plants one bug at a time in
// dist/log/record-decoder.js (one per rule the decoder keeps), runs
// test/log-record-decoder.test.ts against it, restores the file. Every line
// must say RED: a GREEN one is a rule no test holds. About 17 x 5 s;
// PLANT_ONLY=<part of a name> plants only the matching ones.
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const root = fileURLToPath(new URL('..', import.meta.url));
const file = `${root}dist/log/record-decoder.js`;
const orig = readFileSync(file, 'utf8');
const bugs = [
  ['no trailing-bytes check', 'if (pos !== end)\n', 'if (false)\n'],
  ['two fields swapped', 'for (const [name, kind] of fields) {', 'for (const [name, kind] of (fields.length > 1 ? [fields[1], fields[0], ...fields.slice(2)] : fields)) {'],
  ['no body union index check', 'if (index < 0 || index >= PLAN.length)', 'if (false)'],
  ['optional index: any non-zero is present', 'if (i !== 0)\n        fail(', 'if (false)\n        fail('],
  ['boolean byte: any non-zero is true', 'if (b > 1)', 'if (false)'],
  ['commit count not checked', "last.kind !== 'commit' || last.records !== frame.count", "last.kind !== 'commit'"],
  ['string length beyond the block', 'if (len > e - p)', 'if (false)'],
  ['negative string length (one-byte length)', 'if ((len & 1) !== 0)', 'if (false)'],
  ['negative string length (longer length)', 'if (len < 0)\n            fail(`negative', 'if (false)\n            fail(`negative'],
  ['long varint over 8 bytes', 'if (x >= 0x80)\n', 'if (false)\n'],
  ['long beyond 2^52', 'if (low > 16 || (low === 16 && v !== 0))', 'if (low > 16)'],
  ['long: no end check', 'if (pos >= end)\n        past();\n    const b = buf[pos++];\n    if (b < 0x80)', 'if (false)\n        past();\n    const b = buf[pos++];\n    if (b < 0x80)'],
  ['fixed past the end', 'if (end - pos < 4)', 'if (false)'],
  ['cache: no byte compare', 'while (i < len && s.charCodeAt(i) === b[p + i])', 'i = len;\n        while (false)'],
  ['str: no end check', 'if (p >= e)\n        past();\n    // the length', 'if (false)\n        past();\n    // the length'],
  ['key order: op after the literal fields', "const c = { ${literal.join(', ')} };", "const c = { ${[...literal.slice(1), literal[0]].join(', ')} };"],
  ['schema check skipped', 'if (got.join() !== want.join())', 'if (false)'],
];
let bad = 0;
try {
  for (const [name, from, to] of bugs) {
    if (process.env.PLANT_ONLY && !name.includes(process.env.PLANT_ONLY)) continue;
    if (!orig.includes(from)) { console.log(`!! ${name}: pattern not found`); bad++; continue; }
    let src = orig.replace(from, to);
    writeFileSync(file, src);
    const r = spawnSync(process.execPath, ['--test', 'dist/test/log-record-decoder.test.js'], { cwd: root, encoding: 'utf8', timeout: 120000 });
    const failed = (r.stdout.match(/^not ok \d+ - .*/gm) ?? []).map((l) => l.replace(/^not ok \d+ - /, ''));
    console.log(`${failed.length > 0 ? 'RED  ' : r.error ? 'TIMEOUT' : 'GREEN'} ${name} (${r.signal ?? ''})${failed.length ? ': ' + failed.join(' | ') : ''}`);
    if (failed.length === 0) bad++;
  }
} finally {
  writeFileSync(file, orig);
}
process.exit(bad ? 1 : 0);
