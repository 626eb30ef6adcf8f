// `matchlog accounts add|list|remove`: the gateway's accounts file. The
// password comes from stdin, never the command line, where `ps` and the shell
// history would keep it.

import { join } from 'node:path';
import { parseOptions } from './args.js';
import { AccountStore, accountNameProblem, MAX_PASSWORD_BYTES, passwordProblem } from '../gateway/accounts.js';

const USAGE = `usage: matchlog accounts add NAME [--market-data-only] [--accounts FILE | --data DIR]
       matchlog accounts list [--accounts FILE | --data DIR]
       matchlog accounts remove NAME [--accounts FILE | --data DIR]

  add NAME            add an account; its password is the first line of stdin
                      (1 to ${MAX_PASSWORD_BYTES} bytes, no control characters), e.g.
                      matchlog accounts add alice < alice.pw
                      Only a salted scrypt hash of it is stored.
  --market-data-only  the account may subscribe to market data, not trade
  list                one line per account: NAME, then trading or market-data-only
  remove NAME         remove an account
  --accounts FILE     the accounts file (default DIR/accounts.json)
  --data DIR          the data directory of matchlog start (default ./data)

NAME is 1 to 64 printable ASCII characters without spaces (it is the FIX
SenderCompID); MATCHLOG is reserved. The file is rewritten atomically with mode 0600.
`;

const STRING_OPTIONS = new Set(['--accounts', '--data']);

/** Positionals apart from options, so NAME may come before or after them; `--` ends the options. */
function split(args: string[]): { positionals: string[]; options: string[] } {
  const positionals: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      options.push(a);
      if (STRING_OPTIONS.has(a) && i + 1 < args.length) options.push(args[++i]);
    } else {
      positionals.push(a);
    }
  }
  return { positionals, options };
}

function usageError(why: string): number {
  process.stderr.write(`matchlog accounts: ${why}\n${USAGE}`);
  return 2;
}

/** The first line of a piped stdin, without its line end; reads no further than a password can be long. */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer;
    const nl = buf.indexOf(0x0a);
    chunks.push(nl < 0 ? buf : buf.subarray(0, nl));
    size += nl < 0 ? buf.length : nl;
    // +1 for a CR before the LF
    if (nl >= 0 || size > MAX_PASSWORD_BYTES + 1) break;
  }
  const line = Buffer.concat(chunks).toString('utf8');
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** A password typed at a terminal, not echoed. */
function readHidden(name: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(`password for ${name}: `);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (d: string): void => {
      for (const ch of d) {
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && typed.length === 0)) {
          finish();
          resolve(typed.join(''));
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new Error('interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed.push(ch);
      }
    };
    stdin.on('data', onData);
  });
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) return usageError('say add, list or remove');
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'add' && sub !== 'list' && sub !== 'remove') return usageError(`unknown subcommand '${sub}'`);
  const { positionals, options } = split(rest);
  const opts = parseOptions(`accounts ${sub}`, USAGE, options, {
    accounts: { type: 'string' }, data: { type: 'string' }, 'market-data-only': { type: 'boolean' },
  });
  if (typeof opts === 'number') return opts;
  if (opts['market-data-only'] === true && sub !== 'add') return usageError('--market-data-only goes with add');
  const wanted = sub === 'list' ? 0 : 1;
  if (positionals.length !== wanted) {
    return usageError(wanted === 0 ? `list takes no NAME, got ${positionals.join(' ')}` : `${sub} takes one NAME, got ${positionals.length}`);
  }
  const path = opts.accounts ?? join(opts.data ?? './data', 'accounts.json');
  const store = AccountStore.load(path);

  if (sub === 'list') {
    const all = store.list();
    if (all.length === 0) process.stderr.write(`matchlog accounts: no accounts in ${path}\n`);
    for (const a of all) process.stdout.write(`${a.name}\t${a.marketDataOnly ? 'market-data-only' : 'trading'}\n`);
    return 0;
  }

  const name = positionals[0];
  if (sub === 'remove') {
    if (!store.remove(name)) {
      process.stderr.write(`matchlog accounts: no account ${name} in ${path}\n`);
      return 1;
    }
    store.save();
    process.stdout.write(`matchlog: account ${name} removed from ${path}\n`);
    return 0;
  }

  const nameBad = accountNameProblem(name);
  if (nameBad !== null) return usageError(nameBad);
  // before asking for a password that would be thrown away
  if (store.has(name)) {
    process.stderr.write(`matchlog accounts: account ${name} already exists in ${path} (remove it first to set a new password)\n`);
    return 1;
  }
  const password = process.stdin.isTTY ? await readHidden(name) : await readFirstLine();
  const pwBad = passwordProblem(password);
  if (pwBad !== null) {
    const hint = password.length === 0 ? '; give it as the first line of stdin, e.g. matchlog accounts add NAME < FILE' : '';
    process.stderr.write(`matchlog accounts add: ${pwBad}${hint}\n`);
    return 2;
  }
  const marketDataOnly = opts['market-data-only'] === true;
  await store.add(name, password, { marketDataOnly });
  store.save();
  process.stdout.write(`matchlog: account ${name} added to ${path} (${marketDataOnly ? 'market-data-only' : 'trading'})\n`);
  return 0;
}
