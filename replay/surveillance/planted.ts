// Scoring alerts against what `matchlog gen` planted (DIR/planted.json): how
// many planted patterns an alert found (recall), and how many alerts fell on
// the unplanted remainder (false alarms).

import { readJsonFile } from '../../log/json-file.js';
import type { Alert } from './alerts.js';

export interface Planted {
  kind: string;
  account: string;
  symbol?: string;
  counterparty?: string;
}

export interface Score {
  planted: number;
  found: number;
  missed: Planted[];
  alerts: number;
  falseAlarms: number;
  /** Per kind: planted, found, false alarms. */
  byKind: Record<string, { planted: number; found: number; falseAlarms: number }>;
}

export function readPlanted(file: string): Planted[] {
  const parsed = readJsonFile(file);
  if (!Array.isArray(parsed) || parsed.some((p) => p === null || typeof p !== 'object' || typeof p.kind !== 'string' || typeof p.account !== 'string')) {
    throw new Error(`${file}: expected a JSON array of objects with kind and account`);
  }
  return parsed as Planted[];
}

/** Whether alert `a` is the finding of planted pattern `p`: same kind, same accounts (and symbol, when both name one). */
function finds(a: Alert, p: Planted): boolean {
  if (a.kind !== p.kind) return false;
  if (p.symbol !== undefined && a.symbol !== undefined && a.symbol !== p.symbol) return false;
  const accounts = new Set([a.account, a.counterparty]);
  return accounts.has(p.account) && (p.counterparty === undefined || accounts.has(p.counterparty));
}

export function score(alerts: readonly Alert[], planted: readonly Planted[]): Score {
  const byKind: Score['byKind'] = {};
  const kind = (k: string) => (byKind[k] ??= { planted: 0, found: 0, falseAlarms: 0 });
  const missed: Planted[] = [];
  for (const p of planted) {
    kind(p.kind).planted++;
    if (alerts.some((a) => finds(a, p))) kind(p.kind).found++;
    else missed.push(p);
  }
  let falseAlarms = 0;
  for (const a of alerts) {
    if (planted.some((p) => finds(a, p))) continue;
    falseAlarms++;
    kind(a.kind).falseAlarms++;
  }
  return { planted: planted.length, found: planted.length - missed.length, missed, alerts: alerts.length, falseAlarms, byKind };
}

export function formatScore(s: Score): string {
  const pct = s.planted === 0 ? 100 : (100 * s.found) / s.planted;
  const kinds = Object.entries(s.byKind).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `  ${k}: ${v.found}/${v.planted} found, ${v.falseAlarms} false alarm${v.falseAlarms === 1 ? '' : 's'}`);
  const missed = s.missed.map((p) => `  missed: ${p.kind} ${p.account}${p.counterparty === undefined ? '' : ` <-> ${p.counterparty}`}${p.symbol === undefined ? '' : ` ${p.symbol}`}`);
  return [`planted: ${s.found}/${s.planted} found (recall ${pct.toFixed(0)}%); false alarms: ${s.falseAlarms} of ${s.alerts} alerts`, ...kinds, ...missed].join('\n');
}
