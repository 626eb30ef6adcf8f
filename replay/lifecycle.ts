// One order's whole life: every event that names it, each with its time. An
// order is named by its id (the seq of the command that created it: replay
// starts from the snapshot before that and stops when the order is done) or by
// ACCOUNT:CLORDID (any of its client ids over replaces; client ids may be
// reused once an order is done, so this may be several orders).

import { formatEvent, type EngineEvent, type ExternalEvent } from '../engine/index.js';
import { checkMoment, replayLog, type LogBounds } from './history.js';
import type { Progress } from './progress.js';
import { eventRow } from './rows.js';

export type OrderRef = { orderId: number } | { account: string; clOrdId: string };

export interface OrderLife {
  /** null for a new-order command that was rejected (no order was created). */
  orderId: number | null;
  account: string;
  /** `live` when the order still rests at the end of the log. */
  state: 'live' | 'filled' | 'cancelled' | 'rejected' | 'done';
  rows: ExternalEvent[];
}

/** `123` is an order id; `ACCOUNT:CLORDID` splits at a colon (ids may hold colons: every split is tried). */
export function parseOrderRef(s: string): OrderRef[] {
  if (/^\d+$/.test(s)) return [{ orderId: Number(s) }];
  const refs: OrderRef[] = [];
  for (let i = s.indexOf(':'); i > 0 && i < s.length - 1; i = s.indexOf(':', i + 1)) refs.push({ account: s.slice(0, i), clOrdId: s.slice(i + 1) });
  if (refs.length === 0) throw new Error(`--order ${JSON.stringify(s)}: expected an order id (digits) or ACCOUNT:CLORDID`);
  return refs;
}

/** Order ids of `account` (or any, when null) an event concerns, with the client ids it names. */
function touches(e: EngineEvent, account: string | null, out: [number, string][]): void {
  out.length = 0;
  switch (e.type) {
    case 'accepted':
    case 'cancelled':
      if (account === null || e.account === account) out.push([e.orderId, e.clOrdId]);
      break;
    case 'replaced':
      if (account === null || e.account === account) out.push([e.orderId, e.clOrdId], [e.orderId, e.origClOrdId]);
      break;
    case 'cancelRejected':
      if ((account === null || e.account === account) && e.orderId > 0) out.push([e.orderId, e.origClOrdId]);
      break;
    case 'trade':
      if (account === null || e.makerAccount === account) out.push([e.makerOrderId, e.makerClOrdId]);
      if (account === null || e.takerAccount === account) out.push([e.takerOrderId, e.takerClOrdId]);
      break;
    default:
  }
}

function endState(e: EngineEvent, orderId: number): OrderLife['state'] | null {
  if (e.type === 'cancelled' && e.orderId === orderId) return 'cancelled';
  if (e.type === 'trade') {
    if (e.makerOrderId === orderId && e.makerLeavesQty === 0) return 'filled';
    if (e.takerOrderId === orderId && e.takerLeavesQty === 0) return 'filled';
  }
  return null;
}

export function orderLives(b: LogBounds, refs: OrderRef[], progress?: Progress): OrderLife[] {
  const first = refs[0];
  if ('orderId' in first) return [byId(b, first.orderId, progress)];
  return byClientId(b, refs as { account: string; clOrdId: string }[], progress);
}

function byId(b: LogBounds, orderId: number, progress?: Progress): OrderLife {
  checkMoment(b, { seq: orderId }, '--order');
  const life: OrderLife = { orderId, account: '', state: 'live', rows: [] };
  const hit: [number, string][] = [];
  replayLog(b.dir, { fromSeq: orderId, progress }, (rec, events, engine) => {
    if (rec.seq === orderId && rec.cmd.op !== 'new') throw new Error(`seq ${orderId} is a ${rec.cmd.op} command, not a new order: no order has id ${orderId}`);
    let done = false;
    for (const e of events) {
      if (rec.seq === orderId && e.type === 'rejected') {
        life.account = e.account;
        life.orderId = null;
        life.state = 'rejected';
        done = true;
      } else {
        touches(e, null, hit);
        if (!hit.some(([id]) => id === orderId)) continue;
        if (e.type === 'accepted') life.account = e.account;
        const end = endState(e, orderId);
        if (end !== null) {
          life.state = end;
          done = true;
        }
      }
      life.rows.push(eventRow(rec.ts, formatEvent(e, engine)));
    }
    return !done;
  }, b);
  return life;
}

function byClientId(b: LogBounds, refs: { account: string; clOrdId: string }[], progress?: Progress): OrderLife[] {
  const accounts = new Set(refs.map((r) => r.account));
  const lives = new Map<string, OrderLife & { ids: Set<string> }>();
  const hit: [number, string][] = [];
  const seen = new Set<string>();
  replayLog(b.dir, { progress }, (rec, events, engine) => {
    const cmd = rec.cmd as { account?: string };
    if (cmd.account !== undefined && accounts.has(cmd.account)) seen.add(cmd.account);
    for (const account of accounts) {
      if (cmd.account !== account && !events.some((e) => e.type === 'trade' && (e.makerAccount === account || e.takerAccount === account))) continue;
      for (const e of events) {
        let keys: [string, number | null, string][] = [];
        if (e.type === 'rejected' && e.account === account) keys = [[`rejected@${rec.seq}`, null, e.clOrdId]];
        else {
          touches(e, account, hit);
          keys = hit.map(([id, c]) => [`#${id}`, id, c]);
        }
        const done = new Set<string>();
        for (const [key, id, clOrdId] of keys) {
          let life = lives.get(key);
          if (life === undefined) {
            life = { orderId: id, account, state: id === null ? 'rejected' : 'live', rows: [], ids: new Set() };
            lives.set(key, life);
          }
          life.ids.add(clOrdId);
          if (id !== null) {
            const end = endState(e, id);
            if (end !== null) life.state = end;
          }
          // a replace names the order twice (old and new client id): one row
          if (done.has(key)) continue;
          done.add(key);
          life.rows.push(eventRow(rec.ts, formatEvent(e, engine)));
        }
      }
    }
  }, b);
  for (const r of refs) {
    if (!seen.has(r.account) && refs.length === 1) throw new Error(`unknown account ${r.account}: it sends no command in the log`);
  }
  const out = [...lives.values()].filter((l) => refs.some((r) => r.account === l.account && l.ids.has(r.clOrdId)));
  if (out.length === 0) {
    const names = refs.map((r) => `${r.account}:${r.clOrdId}`).join(' or ');
    throw new Error(`no order ${names} in the log${seen.size === 0 ? ' (the account sends no command)' : ''}`);
  }
  return out.map(({ ids: _ids, ...l }) => l);
}
