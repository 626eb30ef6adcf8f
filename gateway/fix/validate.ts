// Structural validation of a well-framed message against the dictionary: what
// a FIX session answers with a session-level Reject (35=3). The reasons and
// their order follow the FIX 4.4 session rules (Volume 2, "Reject"), in the
// order QuickFIX's DataDictionary::validate checks them, so that the QuickFIX
// acceptance scripts (14a-14i) get the reason they expect when a message has
// more than one fault: structure (header first), MsgType, required fields,
// then field by field (value present, tag known, tag allowed here, repeated,
// format, value), repeating groups last.

import { FixMessage } from './message.js';
import {
  type FieldDef,
  type GroupDef,
  HEADER,
  fieldDef,
  isFix44MsgType,
  isHeaderTag,
  messageDef,
} from './dictionary.js';

/** SessionRejectReason (373) values the gateway sends. */
export const RejectReason = {
  InvalidTagNumber: 0,
  RequiredTagMissing: 1,
  TagNotDefinedForMsgType: 2,
  UndefinedTag: 3,
  TagWithoutValue: 4,
  ValueIncorrect: 5,
  IncorrectDataFormat: 6,
  CompIdProblem: 9,
  SendingTimeAccuracy: 10,
  InvalidMsgType: 11,
  TagAppearsMoreThanOnce: 13,
  TagOutOfOrder: 14,
  GroupFieldsOutOfOrder: 15,
  IncorrectNumInGroupCount: 16,
  ValueIncludesDelimiter: 17,
} as const;

export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

/** The Text (58) of a Reject: FIX's description of the reason, as QuickFIX words it. */
export const REJECT_TEXT: Readonly<Record<RejectReasonCode, string>> = {
  0: 'Invalid tag number',
  1: 'Required tag missing',
  2: 'Tag not defined for this message type',
  3: 'Undefined tag',
  4: 'Tag specified without a value',
  5: 'Value is incorrect (out of range) for this tag',
  6: 'Incorrect data format for value',
  9: 'CompID problem',
  10: 'SendingTime accuracy problem',
  11: 'Invalid MsgType',
  13: 'Tag appears more than once',
  14: 'Tag specified out of required order',
  15: 'Repeating group fields out of order',
  16: 'Incorrect NumInGroup count for repeating group',
  17: 'Non-data value includes field delimiter',
};

export interface Rejection {
  readonly reason: RejectReasonCode;
  /** RefTagID (371): the offending tag, when there is one. */
  readonly refTagId?: number;
  readonly text: string;
}

/**
 * What a codec makes of one frame. `garbled` frames are ignored (FIX: "a
 * garbled message must be ignored; the sequence gap will be filled by a
 * resend"); `beginString` is a well-framed message of another FIX version
 * (answered with Logout); `reject` is a well-framed message the session
 * answers with a Reject; `msg` carries what could be read, header included.
 */
export type DecodeResult =
  | { readonly ok: true; readonly msg: FixMessage }
  | { readonly ok: false; readonly kind: 'garbled'; readonly reason: string }
  | { readonly ok: false; readonly kind: 'beginString'; readonly msg: FixMessage; readonly beginString: string }
  | { readonly ok: false; readonly kind: 'reject'; readonly msg: FixMessage; readonly rejection: Rejection };

export function rejection(reason: RejectReasonCode, refTagId?: number, detail?: string): Rejection {
  const text = detail === undefined ? REJECT_TEXT[reason] : `${REJECT_TEXT[reason]} (${detail})`;
  return refTagId === undefined ? { reason, text } : { reason, refTagId, text };
}

// --- FIX time values ---------------------------------------------------------

function digitsAt(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Milliseconds of a valid YYYYMMDD, or NaN. */
function parseDate(s: string, at: number): number {
  const y = digitsAt(s, at, 4);
  const mo = digitsAt(s, at + 4, 2);
  const d = digitsAt(s, at + 6, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return Number.NaN;
  const ms = Date.UTC(y, mo - 1, d);
  // Date.UTC rolls 20240231 over into March: a day past the month's end is wrong
  return new Date(ms).getUTCDate() === d ? ms : Number.NaN;
}

/** Milliseconds into the day of HH:MM:SS[.sss|.ssssss|.sssssssss] at `at` to the end, or NaN. */
function parseTime(s: string, at: number): number {
  const len = s.length - at;
  if (len !== 8 && len !== 12 && len !== 15 && len !== 18) return Number.NaN;
  if (s.charCodeAt(at + 2) !== 58 || s.charCodeAt(at + 5) !== 58) return Number.NaN;
  const h = digitsAt(s, at, 2);
  const m = digitsAt(s, at + 3, 2);
  const sec = digitsAt(s, at + 6, 2);
  // 60: FIX allows the leap second
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return Number.NaN;
  let ms = 0;
  if (len > 8) {
    if (s.charCodeAt(at + 8) !== 46) return Number.NaN;
    const frac = digitsAt(s, at + 9, len - 9);
    if (frac < 0) return Number.NaN;
    ms = Math.floor(frac / 10 ** (len - 12));
  }
  return ((h * 60 + m) * 60 + sec) * 1000 + ms;
}

/** A UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss]) as epoch milliseconds, NaN when malformed. */
export function parseUtcTimestamp(s: string): number {
  if (s.length < 17 || s.charCodeAt(8) !== 45) return Number.NaN;
  return parseDate(s, 0) + parseTime(s, 9);
}

let cachedMs = Number.NaN;
let cachedText = '';

/** Epoch milliseconds as a UTCTimestamp with milliseconds: `20240131-14:05:09.123`. */
export function formatUtcTimestamp(ms: number): string {
  // every message of a burst carries the same millisecond
  if (ms === cachedMs) return cachedText;
  const iso = new Date(Number.isFinite(ms) ? ms : 0).toISOString(); // 2024-01-31T14:05:09.123Z
  cachedText = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + '-' + iso.slice(11, 23);
  cachedMs = ms;
  return cachedText;
}

// --- values ------------------------------------------------------------------

function isUnsignedInt(v: string): boolean {
  if (v.length === 0 || v.length > 15) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isInt(v: string): boolean {
  return v.charCodeAt(0) === 45 ? isUnsignedInt(v.slice(1)) : isUnsignedInt(v);
}

/** FIX float: digits with an optional '.' and an optional leading '-'; no '+', no exponent. */
function isDecimal(v: string): boolean {
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  let dot = false;
  if (v.length - i > 64) return false;
  for (; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

function isPositive(v: string): boolean {
  if (v.charCodeAt(0) === 45) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 48 && c <= 57) return true;
  }
  return false;
}

/** 0 when `value` is a valid value of `def`, else the reject reason (6 format, 5 range). */
export function checkValue(def: FieldDef, value: string): 0 | 5 | 6 {
  switch (def.type) {
    case 'int':
      if (!isInt(value)) return 6;
      break;
    case 'SeqNum':
    case 'Length':
    case 'NumInGroup':
      if (!isUnsignedInt(value)) return 6;
      break;
    case 'Qty':
    case 'Price':
    case 'PriceOffset':
    case 'Amt':
    case 'float':
      if (!isDecimal(value)) return 6;
      break;
    case 'char':
      if (value.length !== 1) return 6;
      break;
    case 'Boolean':
      if (value !== 'Y' && value !== 'N') return 6;
      break;
    case 'Currency':
      if (value.length !== 3) return 6;
      break;
    case 'UTCTimestamp':
      if (Number.isNaN(parseUtcTimestamp(value))) return 6;
      break;
    case 'UTCTimeOnly':
      if (Number.isNaN(parseTime(value, 0))) return 6;
      break;
    case 'UTCDateOnly':
    case 'LocalMktDate':
      if (value.length !== 8 || Number.isNaN(parseDate(value, 0))) return 6;
      break;
    case 'MultipleValueString': {
      const parts = value.split(' ');
      for (const p of parts) {
        if (p.length === 0) return 6;
        if (def.values !== undefined && !def.values.has(p)) return 5;
      }
      return 0;
    }
    case 'String':
    case 'Exchange':
      break;
  }
  if (def.values !== undefined && !def.values.has(value)) return 5;
  if (def.range === 'positive' && !isPositive(value)) return 5;
  if (def.range === 'nonNegative' && value.charCodeAt(0) === 45) return 5;
  return 0;
}

// --- messages ----------------------------------------------------------------

// reused between calls: validation is synchronous and never re-entered
const seen = new Set<number>();

/**
 * The first reason FIX has to reject `msg`, or undefined when it is valid.
 * `msg` starts with MsgType (35); BeginString, BodyLength and CheckSum are
 * the codec's business. A MsgType FIX 4.4 defines but the gateway does not
 * speak passes with its header checked only: the session answers it with a
 * BusinessMessageReject (380=3), not a Reject.
 */
export function validate(msg: FixMessage): Rejection | undefined {
  const fields = msg.fields;
  const n = fields.length;

  // header, body, trailer: once a body field is seen, a header field is out of order
  let inBody = false;
  for (let i = 0; i < n; i++) {
    if (isHeaderTag(fields[i][0])) {
      if (inBody) return rejection(RejectReason.TagOutOfOrder, fields[i][0]);
    } else {
      inBody = true;
    }
  }

  const msgType = n > 0 && fields[0][0] === 35 ? fields[0][1] : undefined;
  if (msgType === undefined) return rejection(RejectReason.RequiredTagMissing, 35);
  if (msgType === '') return rejection(RejectReason.TagWithoutValue, 35);
  if (!isFix44MsgType(msgType)) return rejection(RejectReason.InvalidMsgType);
  const def = messageDef(msgType);

  for (const m of HEADER) if (m.required && !msg.has(m.tag)) return rejection(RejectReason.RequiredTagMissing, m.tag);
  if (def !== undefined) {
    for (const m of def.body) if (m.required && !msg.has(m.tag)) return rejection(RejectReason.RequiredTagMissing, m.tag);
  }

  seen.clear();
  for (let i = 1; i < n; i++) {
    const tag = fields[i][0];
    const value = fields[i][1];
    const header = isHeaderTag(tag);
    if (!header && def === undefined) break; // a message we do not speak: its body is not ours to judge
    if (value === '') return rejection(RejectReason.TagWithoutValue, tag);
    const fd = fieldDef(tag);
    if (fd === undefined) return rejection(RejectReason.InvalidTagNumber, tag);
    const member = header ? undefined : def?.fields.get(tag);
    if (!header && member === undefined) return rejection(RejectReason.TagNotDefinedForMsgType, tag);
    if (seen.has(tag)) return rejection(RejectReason.TagAppearsMoreThanOnce, tag);
    seen.add(tag);
    const bad = checkValue(fd, value);
    if (bad !== 0) return rejection(bad, tag);
    if (member?.group !== undefined) {
      const end = validateGroup(fields, i + 1, member.group, Number(value));
      if (typeof end !== 'number') return end;
      i = end - 1;
    }
  }
  return undefined;
}

/**
 * Checks the instances of `group` starting at `start`; returns the index of
 * the first field after the group, or the rejection. Members must follow the
 * dictionary order inside an instance (FIX 4.4 Vol 1, "Repeating groups"), so
 * a required member is missing exactly when the walk skips past it.
 */
function validateGroup(fields: readonly [number, string][], start: number, group: GroupDef, count: number): number | Rejection {
  const members = group.members;
  let instances = 0;
  let last = -1;
  let i = start;
  for (; i < fields.length; i++) {
    const tag = fields[i][0];
    const pos = group.position.get(tag);
    if (pos === undefined) break;
    if (pos === 0) {
      if (instances > 0) {
        const missing = firstRequired(group, last + 1, members.length);
        if (missing !== undefined) return rejection(RejectReason.RequiredTagMissing, missing);
      }
      instances++;
    } else if (instances === 0 || pos < last) {
      return rejection(RejectReason.GroupFieldsOutOfOrder, tag);
    } else if (pos === last) {
      return rejection(RejectReason.TagAppearsMoreThanOnce, tag);
    } else {
      const missing = firstRequired(group, last + 1, pos);
      if (missing !== undefined) return rejection(RejectReason.RequiredTagMissing, missing);
    }
    last = pos;
    const value = fields[i][1];
    if (value === '') return rejection(RejectReason.TagWithoutValue, tag);
    const fd = fieldDef(tag);
    if (fd === undefined) return rejection(RejectReason.InvalidTagNumber, tag);
    const bad = checkValue(fd, value);
    if (bad !== 0) return rejection(bad, tag);
  }
  if (instances > 0) {
    const missing = firstRequired(group, last + 1, members.length);
    if (missing !== undefined) return rejection(RejectReason.RequiredTagMissing, missing);
  }
  if (instances !== count) return rejection(RejectReason.IncorrectNumInGroupCount, group.countTag);
  return i;
}

function firstRequired(group: GroupDef, from: number, to: number): number | undefined {
  for (let k = Math.max(from, 1); k < to; k++) if (group.members[k].required) return group.members[k].tag;
  return undefined;
}
