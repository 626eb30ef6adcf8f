// `matchlog <command>`: one module per command, loaded on demand so that
// `matchlog apply` never pays for the log or the gateway.

interface CommandModule { run(argv: string[]): Promise<number> }

const commands: Record<string, { about: string; load: () => Promise<CommandModule> }> = {
  accounts: { about: 'the gateway\'s accounts file: add NAME (password on stdin), list, remove NAME', load: () => import('./accounts.js') },
  apply: { about: 'the engine alone: JSON-lines commands on stdin, JSON-lines events on stdout', load: () => import('./apply.js') },
  client: { about: 'a FIX client at the gateway: log on, then buy/sell/cancel/replace/book/orders typed line by line', load: () => import('./client.js') },
  gen: { about: 'a synthetic trading day written through the sequencer into a log folder (planted abuse in planted.json)', load: () => import('./gen.js') },
  info: { about: 'which price-ladder path (native or TypeScript) is in use, and why', load: () => import('./info.js') },
  promote: { about: 'makes the replica running on --data DIR the primary (through its local admin endpoint)', load: () => import('./promote.js') },
  replay: { about: 'history from a log folder, read-only: --book as of a moment, --events exports, --order lifecycle, --summary', load: () => import('./replay.js') },
  replica: { about: 'a replica: follows a primary\'s log, serves market data, takes over when promoted', load: () => import('./replica.js') },
  start: { about: 'the exchange: command log, engine and FIX gateway (ws://127.0.0.1:7440/fix), until SIGINT/SIGTERM', load: () => import('./start.js') },
  surveil: { about: 'surveillance alerts over a log folder: spoofing, order-to-trade ratio, wash trades, marking the close', load: () => import('./surveil.js') },
  verify: { about: 'checks a log folder: blocks, CRCs, one gap-free seq range, epochs, every checkpoint hash', load: () => import('./verify.js') },
};

function help(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(10)} ${c.about}`);
  return `usage: matchlog <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nmatchlog <command> --help for a command's options\n`;
}

// a reader that goes away (`| head`) ends the output, not with a stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return;
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`matchlog: unknown command '${name}'\n\n${help()}`);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = await (await cmd.load()).run(rest);
  } catch (e) {
    // an operator gets the reason, not a stack trace (MATCHLOG_DEBUG=1 for that)
    const err = e as Error;
    process.stderr.write(`matchlog ${name}: ${process.env.MATCHLOG_DEBUG === '1' ? err.stack : err.message}\n`);
    process.exitCode = 1;
  }
}

await main();
