// What surveillance reports: one alert per suspicious pattern, with the
// evidence an analyst checks first (seqs, order ids, symbol, times as ISO).

export type AlertKind = 'spoofing' | 'order-to-trade' | 'wash-trade' | 'marking-close';

export interface Alert {
  kind: AlertKind;
  account: string;
  /** Absent for account-wide alerts (order-to-trade). */
  symbol?: string;
  /** The related account on the other side (wash trades). */
  counterparty?: string;
  /** First and last moment of the evidence, ISO-8601 UTC to the µs. */
  from: string;
  to: string;
  /** Seqs of the commands that make the pattern (capped at 50). */
  seqs: number[];
  orderIds: number[];
  /** One sentence for a person. */
  text: string;
  /** The measures compared with the thresholds. */
  measures: Record<string, number | string>;
}

export const EVIDENCE_CAP = 50;

/** One readable paragraph per alert: the headline, then the evidence. */
export function formatAlert(a: Alert): string {
  const who = a.counterparty === undefined ? a.account : `${a.account} <-> ${a.counterparty}`;
  const where = a.symbol === undefined ? '' : ` ${a.symbol}`;
  const more = (xs: number[]): string => xs.join(',') + (xs.length >= EVIDENCE_CAP ? ',...' : '');
  return `${a.kind} ${who}${where} ${a.from} .. ${a.to}\n  ${a.text}\n  seqs ${more(a.seqs)}${a.orderIds.length > 0 ? `\n  orders ${more(a.orderIds)}` : ''}`;
}
