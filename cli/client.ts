// `matchlog client`: a person at the gateway. Logs on with FixClient, reads
// commands line by line, prints every report in one line as it arrives.
// The password is never an argument (`ps` and shell history would keep it):
// the first line of stdin when it is piped, a prompt without echo at a terminal.

import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseOptions } from './args.js';
import { FixClient, type BookLevel, type BookView, type FixProtocol } from '../gateway/client.js';
import { FixMessage, Tag } from '../gateway/fix/message.js';

const USAGE = `usage: matchlog client --account NAME [--url URL]... [--protocol fix.4.4|fix.json]

  --account NAME   the account to log on as (SenderCompID and Username)
  --url URL        the gateway (default ws://127.0.0.1:7440/fix); given more than once, the nodes
                   of a replicated exchange: the client logs on to the primary and fails over
                   to the new one if it goes (sequence numbers and orders continue)
  --protocol P     WebSocket subprotocol: fix.4.4 (default) or fix.json

The password is the first line of stdin, or asked for without echo at a terminal.
Then one command per line:

  buy QTY SYMBOL [PRICE]      a limit order, or a market order without PRICE
  sell QTY SYMBOL [PRICE]
  cancel CLORDID              cancel an order (its ClOrdID as the reports show it, in [])
  replace CLORDID QTY [PRICE] new total quantity (fills included) and price
  massCancel [SYMBOL]         cancel every live order (of one symbol)
  status CLORDID              ask for an order's status
  book SYMBOL                 subscribe to SYMBOL's market data and print its book
  orders                      the live orders known from the reports
  help                        this list
  quit                        wait for pending answers, log out, exit (so does end of input)

Reports print as they arrive, e.g.
  filled 5 AAPL @ 190 (avg 190, leaves 0) order 17 [ClOrdID]
`;

const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const ORD_STATUS: Readonly<Record<string, string>> = {
  '0': 'new', '1': 'partially filled', '2': 'filled', '4': 'cancelled', '5': 'replaced', '8': 'rejected',
};
const PENDING_WAIT_MS = 5000;

function usageError(why: string): number {
  process.stderr.write(`matchlog client: ${why}\n${USAGE}`);
  return 2;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function sideWord(m: FixMessage): string {
  return m.get(Tag.Side) === '2' ? 'sell' : 'buy';
}

function priceWords(m: FixMessage): string {
  const price = m.get(Tag.Price);
  return price === undefined ? 'market' : `@ ${price}`;
}

/** One readable line per message a person cares about; undefined for session chatter. */
export function describeMessage(m: FixMessage): string | undefined {
  const id = `[${m.get(Tag.ClOrdID) ?? ''}]`;
  const text = m.get(Tag.Text);
  const why = text === undefined ? '' : `: ${text}`;
  const sym = m.get(Tag.Symbol) ?? '';
  const order = `order ${m.get(Tag.OrderID) ?? '?'}`;
  switch (m.msgType) {
    case '8': {
      const leaves = m.get(Tag.LeavesQty) ?? '0';
      switch (m.get(Tag.ExecType)) {
        case '0':
          return `accepted ${sideWord(m)} ${m.get(Tag.OrderQty)} ${sym} ${priceWords(m)} (leaves ${leaves}) ${order} ${id}`;
        case 'F':
          return `${m.get(Tag.OrdStatus) === '2' ? 'filled' : 'partially filled'} ${m.get(Tag.LastQty)} ${sym} @ ${m.get(Tag.LastPx)} `
            + `(avg ${m.get(Tag.AvgPx)}, leaves ${leaves}) ${order} ${id}`;
        case '4':
          return `cancelled ${sideWord(m)} ${m.get(Tag.OrderQty)} ${sym} ${priceWords(m)} (filled ${m.get(Tag.CumQty)}) ${order} ${id}${why}`;
        case '5':
          return `replaced ${order}: ${sideWord(m)} ${m.get(Tag.OrderQty)} ${sym} ${priceWords(m)} (leaves ${leaves}) ${id}, was [${m.get(Tag.OrigClOrdID)}]`;
        case '8':
          return `rejected ${sideWord(m)} ${m.get(Tag.OrderQty) ?? ''} ${sym} ${priceWords(m)} ${id}${why}`;
        case 'I':
          if (m.get(Tag.OrdStatus) === '8' && m.get(Tag.OrderID) === 'NONE') return `status ${id}${why === '' ? ': unknown order' : why}`;
          return `status ${order} ${id}: ${sideWord(m)} ${m.get(Tag.OrderQty)} ${sym} ${priceWords(m)}, `
            + `${ORD_STATUS[m.get(Tag.OrdStatus) ?? ''] ?? m.get(Tag.OrdStatus)}, leaves ${leaves}, filled ${m.get(Tag.CumQty)} (avg ${m.get(Tag.AvgPx)})`;
        default:
          return `report ${m.get(Tag.ExecType)} ${order} ${id}${why}`;
      }
    }
    case '9':
      return `${m.get(Tag.CxlRejResponseTo) === '2' ? 'replace' : 'cancel'} rejected ${id} for [${m.get(Tag.OrigClOrdID)}]${why}`;
    case 'r':
      return m.get(Tag.MassCancelResponse) === '0'
        ? `mass cancel rejected ${id}${why}`
        : `mass cancel ${id}: ${m.get(Tag.TotalAffectedOrders)} order${m.get(Tag.TotalAffectedOrders) === '1' ? '' : 's'} cancelled`;
    case 'j':
      return `refused (${m.get(Tag.RefMsgType)})${why}`;
    case '3':
      return `session reject${m.has(Tag.RefTagID) ? ` (tag ${m.get(Tag.RefTagID)})` : ''}${why}`;
    case 'Y':
      return `market data refused${why}`;
    case '5':
      return `logged out by the gateway${why}`;
    case 'X': {
      const trades: string[] = [];
      let type = '';
      let symbol = '';
      let px = '';
      for (const [tag, v] of m.fields) {
        if (tag === Tag.MDUpdateAction) {
          if (type === '2') trades.push(`trade ${symbol} ${px}`);
          type = '';
        } else if (tag === Tag.MDEntryType) type = v;
        else if (tag === Tag.Symbol) symbol = v;
        else if (tag === Tag.MDEntryPx) px = `@ ${v}`;
        else if (tag === Tag.MDEntrySize) px = `${v} ${px}`;
      }
      if (type === '2') trades.push(`trade ${symbol} ${px}`);
      return trades.length === 0 ? undefined : trades.join('\n');
    }
    default:
      return undefined;
  }
}

function bookText(v: BookView): string {
  const row = (l: BookLevel): string => `    ${l.price.padStart(14)}  ${l.qty.padStart(12)}  (${l.orders} order${l.orders === 1 ? '' : 's'})`;
  const asks = v.asks().reverse();
  const bids = v.bids();
  return [
    `book ${v.symbol}${v.rptSeq >= 0 ? ` (RptSeq ${v.rptSeq})` : ''}`,
    '  asks:', ...(asks.length === 0 ? ['    none'] : asks.map(row)),
    '  bids:', ...(bids.length === 0 ? ['    none'] : bids.map(row)),
  ].join('\n');
}

/** A terminal readline whose echo can be switched off for the password. */
function terminalLines(): { rl: Interface; echo(on: boolean): void } {
  let on = true;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      if (on) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  return { rl, echo: (v) => { on = v; } };
}

export async function run(argv: string[]): Promise<number> {
  const opts = parseOptions('client', USAGE, argv, { account: { type: 'string' }, url: { type: 'string', multiple: true }, protocol: { type: 'string' } });
  if (typeof opts === 'number') return opts;
  if (opts.account === undefined || opts.account === '') return usageError('--account NAME is required');
  const protocol = opts.protocol ?? 'fix.4.4';
  if (protocol !== 'fix.4.4' && protocol !== 'fix.json') return usageError(`--protocol must be fix.4.4 or fix.json, got '${protocol}'`);
  const urls = opts.url ?? ['ws://127.0.0.1:7440/fix'];
  for (const url of urls) if (!/^wss?:\/\//.test(url)) return usageError(`--url must be a ws:// or wss:// URL, got '${url}'`);
  const account = opts.account;

  const tty = process.stdin.isTTY === true;
  let rl: Interface;
  let password: string | undefined;
  let lines: AsyncIterator<string>;
  if (tty) {
    const t = terminalLines();
    rl = t.rl;
    process.stderr.write(`password for ${account}: `);
    t.echo(false);
    password = await new Promise<string>((resolve) => rl.question('', resolve));
    t.echo(true);
    process.stderr.write('\n');
    lines = rl[Symbol.asyncIterator]();
  } else {
    // one reader for the password and the commands: lines after the first must not be lost
    rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
    lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    password = first.done === true ? undefined : first.value;
  }
  if (password === undefined || password === '') {
    rl.close();
    process.stderr.write('matchlog client: no password (the first line of stdin)\n');
    return 2;
  }

  let client: FixClient;
  try {
    client = await FixClient.connect({
      ...(urls.length > 1 ? { endpoints: urls } : { url: urls[0] }), account, password, protocol: protocol as FixProtocol,
      onEvent: (e) => {
        if (e.type === 'failover') process.stderr.write(`failing over from ${e.from} to ${e.to}\n`);
        else if (e.type === 'resynced') process.stderr.write(`resumed on the new primary: ${e.refreshed.length} open orders refreshed, ${e.lost.length} never acknowledged and lost\n`);
        else if (e.type === 'failoverFailed') process.stderr.write(`matchlog client: failover failed: ${e.reason}\n`);
      },
    });
  } catch (e) {
    rl.close();
    process.stderr.write(`matchlog client: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`logged on as ${account} at ${client.url} (${protocol}); type help for the commands\n`);

  const pending = new Pending();
  let quitting = false;
  client.onMessage((m) => {
    const id = m.get(Tag.ClOrdID);
    if (id !== undefined) pending.answered(id);
    // the gateway's answer to our own Logout is no news
    if (quitting && m.msgType === '5') return;
    const line = describeMessage(m);
    if (line !== undefined) say(line);
  });
  const lost = client.closed.then((c) => {
    if (!quitting) process.stderr.write(`matchlog client: connection closed${c.reason !== '' ? `: ${c.reason}` : ` (code ${c.code})`}\n`);
    return 'closed' as const;
  });

  const prompt = (): void => {
    if (tty) rl.prompt();
  };
  rl.setPrompt('> ');
  prompt();
  for (;;) {
    const next = await Promise.race([lines.next(), lost]);
    if (next === 'closed') {
      rl.close();
      return 1;
    }
    if (next.done === true) break;
    const words = next.value.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) {
      prompt();
      continue;
    }
    const [cmd, ...args] = words;
    if (cmd === 'quit' || cmd === 'exit') break;
    try {
      const problem = await command(client, cmd.toLowerCase(), args, pending);
      if (problem !== null) process.stderr.write(`${problem}\n`);
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
    }
    prompt();
  }
  rl.close();
  if (client.state === 'active') await pending.settled();
  quitting = true;
  await client.logout();
  return 0;
}

/** Runs one command; returns what was wrong with it, or null. */
/** Requests not answered yet, by ClOrdID: `book`, `orders` and quitting wait for them, so a script sees its own orders. */
class Pending {
  private readonly ids = new Set<string>();
  private wake: (() => void) | null = null;

  add(id: string): void {
    this.ids.add(id);
  }

  answered(id: string): void {
    if (this.ids.delete(id) && this.ids.size === 0) this.wake?.();
  }

  /** Resolves when every request has its answer, or after PENDING_WAIT_MS. */
  settled(): Promise<void> {
    if (this.ids.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, PENDING_WAIT_MS);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

async function command(client: FixClient, cmd: string, args: string[], pending: Pending): Promise<string | null> {
  switch (cmd) {
    case 'buy':
    case 'sell': {
      const [qty, symbol, price] = args;
      if (args.length < 2 || args.length > 3) return `usage: ${cmd} QTY SYMBOL [PRICE]`;
      if (!DECIMAL.test(qty)) return `quantity must be a decimal number, got '${qty}'`;
      if (price !== undefined && !DECIMAL.test(price)) return `price must be a decimal number, got '${price}'`;
      pending.add(client.newOrder({ symbol, side: cmd, qty, price }));
      return null;
    }
    case 'cancel':
      if (args.length !== 1) return 'usage: cancel CLORDID';
      pending.add(client.cancel(args[0]));
      return null;
    case 'replace': {
      const [id, qty, price] = args;
      if (args.length < 2 || args.length > 3) return 'usage: replace CLORDID QTY [PRICE]';
      if (!DECIMAL.test(qty)) return `quantity must be a decimal number, got '${qty}'`;
      if (price !== undefined && !DECIMAL.test(price)) return `price must be a decimal number, got '${price}'`;
      if (price === undefined && client.order(id) === undefined) return `replace: order [${id}] is not known here: give the PRICE`;
      pending.add(client.replace(id, { qty, price }));
      return null;
    }
    case 'masscancel':
      if (args.length > 1) return 'usage: massCancel [SYMBOL]';
      pending.add(client.massCancel(args[0]));
      return null;
    case 'status':
      if (args.length !== 1) return 'usage: status CLORDID';
      // the answer prints through the message listener like every report
      await client.status(args[0]);
      return null;
    case 'book': {
      if (args.length !== 1) return 'usage: book SYMBOL';
      await pending.settled();
      let view = client.view(args[0]);
      if (view === undefined || !view.synced) {
        view = client.subscribe(args[0]);
        await view.ready();
      }
      say(bookText(view));
      return null;
    }
    case 'orders': {
      await pending.settled();
      const list = client.orders();
      if (list.length === 0) say('no live orders');
      for (const o of list) {
        say(`${o.state === 'pending' ? 'pending' : `order ${o.orderId}`} [${o.clOrdId}]: ${o.side} ${o.qty} ${o.symbol} `
          + `${o.price === undefined ? 'market' : `@ ${o.price}`}, ${o.state.replace('_', ' ')}, leaves ${o.leavesQty}, filled ${o.cumQty} (avg ${o.avgPx})`);
      }
      return null;
    }
    case 'help':
      process.stdout.write(USAGE.slice(USAGE.indexOf('  buy')));
      return null;
    default:
      return `unknown command '${cmd}'; type help for the list`;
  }
}
