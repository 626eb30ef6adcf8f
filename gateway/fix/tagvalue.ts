// FIX 4.4 tag=value framing for the `fix.4.4` subprotocol: one message per
// WebSocket text frame. BodyLength (9) and CheckSum (10) count bytes of the
// UTF-8 encoding (FIX: "number of characters" = bytes on the wire), so a
// frame with non-ASCII text is measured the way the peer's socket sent it.
//
// What is garbled (ignored, FIX 4.4 Vol 2 "Message Recovery" and QuickFIX):
// BeginString not first, BodyLength not second, MsgType not third, a
// BodyLength that does not land on the CheckSum field, a CheckSum that is not
// three digits or not the sum, anything after it, a field without '=' or with
// a tag that is not a number. A well-framed message of another FIX version is
// `beginString` (answered with Logout); everything else goes to validate().

import { BEGIN_STRING, FixMessage, SOH, type FixField } from './message.js';
import { type DecodeResult, validate } from './validate.js';

/** Default bound on a frame, in characters; the server may pass its own. */
export const DEFAULT_MAX_FRAME = 64 * 1024;

/**
 * The bound a client of the gateway (FixClient, the trading screen) decodes
 * with. Larger than what the gateway takes: 64 KiB protects the gateway from
 * its clients, while a full-book snapshot (W) cannot be split in FIX 4.4 and
 * is as long as the book is deep. The gateway keeps to it: every X and y is
 * split at 32 KiB of entries, and a W that would be longer is refused with
 * MarketDataRequestReject (market-data.ts, MAX_SNAPSHOT_ENTRY_BYTES).
 */
export const MAX_FRAME_FROM_GATEWAY = 4 * 1024 * 1024;

const GARBLED_TOO_LARGE: DecodeResult = { ok: false, kind: 'garbled', reason: 'frame larger than the limit' };

function garbled(reason: string): DecodeResult {
  return { ok: false, kind: 'garbled', reason };
}

/**
 * Adds the UTF-8 bytes of the code point at `s[i]` to the running sum; returns
 * how many bytes it has and, through `step`, how many UTF-16 units it spans.
 * A lone surrogate counts as U+FFFD, as TextEncoder and ws would send it.
 */
let step = 1;
let sumOut = 0;
function utf8Bytes(s: string, i: number): number {
  const c = s.charCodeAt(i);
  step = 1;
  if (c < 0x80) {
    sumOut = c;
    return 1;
  }
  if (c < 0x800) {
    sumOut = (0xc0 | (c >> 6)) + (0x80 | (c & 0x3f));
    return 2;
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      step = 2;
      sumOut = (0xf0 | (cp >> 18)) + (0x80 | ((cp >> 12) & 0x3f)) + (0x80 | ((cp >> 6) & 0x3f)) + (0x80 | (cp & 0x3f));
      return 4;
    }
  }
  const cp = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
  sumOut = (0xe0 | (cp >> 12)) + (0x80 | ((cp >> 6) & 0x3f)) + (0x80 | (cp & 0x3f));
  return 3;
}

/** Decodes one tag=value frame. Never throws; the work is linear in the frame, which is bounded. */
export function decodeTagValue(frame: string, maxLength: number = DEFAULT_MAX_FRAME): DecodeResult {
  if (typeof frame !== 'string') return garbled('not a text frame');
  if (frame.length > maxLength) return GARBLED_TOO_LARGE;
  if (!frame.startsWith('8=')) return garbled('BeginString (8) is not the first field');
  const beginEnd = frame.indexOf(SOH, 2);
  if (beginEnd < 0) return garbled('no field delimiter');
  if (!frame.startsWith('9=', beginEnd + 1)) return garbled('BodyLength (9) is not the second field');
  const lengthEnd = frame.indexOf(SOH, beginEnd + 3);
  if (lengthEnd < 0 || lengthEnd - (beginEnd + 3) > 9) return garbled('BodyLength (9) is malformed');
  let bodyLength = 0;
  for (let i = beginEnd + 3; i < lengthEnd; i++) {
    const d = frame.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return garbled('BodyLength (9) is malformed');
    bodyLength = bodyLength * 10 + d;
  }
  if (lengthEnd === beginEnd + 3) return garbled('BodyLength (9) is malformed');
  const bodyStart = lengthEnd + 1;

  // checksum over everything before the CheckSum field, counting UTF-8 bytes
  let sum = 0;
  let i = 0;
  while (i < bodyStart) {
    utf8Bytes(frame, i);
    sum += sumOut;
    i += step;
  }
  let bytes = 0;
  while (bytes < bodyLength && i < frame.length) {
    bytes += utf8Bytes(frame, i);
    sum += sumOut;
    i += step;
  }
  const bodyEnd = i;
  if (bytes !== bodyLength) return garbled('BodyLength (9) does not match the body');
  if (frame.charCodeAt(bodyEnd - 1) !== 1) return garbled('BodyLength (9) does not end on a field delimiter');
  if (frame.length !== bodyEnd + 7 || !frame.startsWith('10=', bodyEnd) || frame.charCodeAt(bodyEnd + 6) !== 1) {
    return garbled('CheckSum (10) is not the last field where BodyLength (9) puts it');
  }
  const checkSum = parseThreeDigits(frame, bodyEnd + 3);
  if (checkSum < 0) return garbled('CheckSum (10) is not three digits');
  if (checkSum !== sum % 256) return garbled('CheckSum (10) is wrong');

  const fields: FixField[] = [];
  let pos = bodyStart;
  while (pos < bodyEnd) {
    const end = frame.indexOf(SOH, pos);
    const eq = frame.indexOf('=', pos);
    if (eq < 0 || eq > end) return garbled('a field has no =');
    const tag = parseTag(frame, pos, eq);
    if (tag === undefined) return garbled('a tag is not a number');
    if (tag === 8 || tag === 9 || tag === 10) return garbled(`tag ${tag} inside the body`);
    fields.push([tag, frame.slice(eq + 1, end)]);
    pos = end + 1;
  }
  if (fields.length === 0 || fields[0][0] !== 35) return garbled('MsgType (35) is not the third field');

  const msg = new FixMessage(fields);
  const beginString = frame.slice(2, beginEnd);
  if (beginString !== BEGIN_STRING) return { ok: false, kind: 'beginString', msg, beginString };
  const rejected = validate(msg);
  return rejected === undefined ? { ok: true, msg } : { ok: false, kind: 'reject', msg, rejection: rejected };
}

function parseThreeDigits(s: string, at: number): number {
  let n = 0;
  for (let i = at; i < at + 3; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A tag is digits, or '-' and digits (QuickFIX's 14a sends `-1=`, a number it rejects as 373=0). */
function parseTag(s: string, from: number, to: number): number | undefined {
  const negative = s.charCodeAt(from) === 45;
  const start = negative ? from + 1 : from;
  if (to === start || to - start > 9) return undefined;
  let n = 0;
  for (let i = start; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Encodes `msg` as a frame: 8, 9, 35, then the other fields in their order,
 * CheckSum last. A SOH inside a value would end the field early and shift
 * every later one, so it is written as a space (no data fields are defined).
 */
export function encodeTagValue(msg: FixMessage): string {
  let body = `35=${msg.msgType}${SOH}`;
  for (const [tag, value] of msg.fields) {
    if (tag === 35 || tag === 8 || tag === 9 || tag === 10) continue;
    body += `${tag}=${value.includes(SOH) ? value.replaceAll(SOH, ' ') : value}${SOH}`;
  }
  const ascii = isAscii(body);
  const head = `8=${BEGIN_STRING}${SOH}9=${ascii ? body.length : Buffer.byteLength(body)}${SOH}`;
  const text = head + body;
  let sum = 0;
  if (ascii) {
    for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
  } else {
    for (const b of Buffer.from(text, 'utf8')) sum += b;
  }
  return `${text}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

/** A message body encoded once for every session it goes to (market-data fan-out). */
export interface EncodedBody {
  readonly text: string;
  /** Its length in bytes and the sum of its bytes: what BodyLength and CheckSum need of it. */
  readonly bytes: number;
  readonly sum: number;
}

// keyed by the message object: a fanned-out message is never changed once sent
const bodies = new WeakMap<FixMessage, EncodedBody>();

/** The tag=value text of `body`'s fields other than `skip`, made once per message object. */
export function encodedBody(body: FixMessage, skip: ReadonlySet<number>): EncodedBody {
  let e = bodies.get(body);
  if (e === undefined) {
    let text = '';
    for (const [tag, value] of body.fields) {
      if (skip.has(tag)) continue;
      text += `${tag}=${value.includes(SOH) ? value.replaceAll(SOH, ' ') : value}${SOH}`;
    }
    const buf = Buffer.from(text, 'utf8');
    let sum = 0;
    for (let i = 0; i < buf.length; i++) sum += buf[i];
    e = { text, bytes: buf.length, sum };
    bodies.set(body, e);
  }
  return e;
}

/**
 * `header` (its own fields: 35 and the session's) followed by an encoded
 * body: byte for byte what encodeTagValue gives for the whole message, with
 * only the header encoded per session.
 */
export function encodeWithBody(header: FixMessage, body: EncodedBody): string {
  let head = `35=${header.msgType}${SOH}`;
  for (const [tag, value] of header.fields) {
    if (tag === 35 || tag === 8 || tag === 9 || tag === 10) continue;
    head += `${tag}=${value.includes(SOH) ? value.replaceAll(SOH, ' ') : value}${SOH}`;
  }
  const headBuf = isAscii(head) ? null : Buffer.from(head, 'utf8');
  const prefix = `8=${BEGIN_STRING}${SOH}9=${(headBuf === null ? head.length : headBuf.length) + body.bytes}${SOH}`;
  let sum = body.sum;
  for (let i = 0; i < prefix.length; i++) sum += prefix.charCodeAt(i);
  if (headBuf === null) for (let i = 0; i < head.length; i++) sum += head.charCodeAt(i);
  else for (let i = 0; i < headBuf.length; i++) sum += headBuf[i];
  return `${prefix}${head}${body.text}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}
