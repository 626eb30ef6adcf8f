// FIX JSON (the FIX Trading Community's "Encoding FIX using JSON", v1), the
// `fix.json` subprotocol: {"Header":{...},"Body":{...},"Trailer":{}} with the
// dictionary's field names, every value a JSON string ("values must be
// serialized as JSON strings"), repeating groups as arrays of objects named
// after their NumInGroup field, no BodyLength and no CheckSum. User-defined
// fields may be named by their tag number; that is what the encoder writes for
// a tag the dictionary does not name.
//
// Decoding maps onto the same FixMessage and the same session rejects as
// tag=value: the guideline makes field order insignificant, so header fields
// come first and a group's members follow the dictionary's order whatever the
// object's key order. On input a JSON number is taken for its text (scripts
// write 5 rather than "5"); any other non-string is a format error (373=6).

import { BEGIN_STRING, FixMessage, SOH, type FixField } from './message.js';
import { type GroupDef, type MessageDef, fieldByName, fieldDef, isHeaderTag, messageDef } from './dictionary.js';
import { type DecodeResult, type Rejection, RejectReason, rejection, validate } from './validate.js';
import { DEFAULT_MAX_FRAME } from './tagvalue.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The sections' own keys the encoding defines but FixMessage does not hold. */
const FRAMING = new Set(['BeginString', 'BodyLength', 'CheckSum', 'MsgType']);

/** Builds the flat field list, remembering the first fault found. */
class Reader {
  readonly fields: FixField[] = [];
  fault: Rejection | undefined;

  private fail(r: Rejection): void {
    if (this.fault === undefined) this.fault = r;
  }

  /** The tag a JSON name stands for, or undefined (fault recorded). */
  tagOf(name: string): number | undefined {
    const def = fieldByName(name);
    if (def !== undefined) return def.tag;
    if (/^-?\d{1,9}$/.test(name)) return Number(name);
    this.fail(rejection(RejectReason.UndefinedTag, undefined, name));
    return undefined;
  }

  /** The text of a scalar value, or undefined (fault recorded). */
  text(tag: number, v: Json | undefined): string | undefined {
    if (typeof v === 'string') {
      if (v.includes(SOH)) {
        this.fail(rejection(RejectReason.ValueIncludesDelimiter, tag));
        return undefined;
      }
      return v;
    }
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (v === null) this.fail(rejection(RejectReason.TagWithoutValue, tag));
    else this.fail(rejection(RejectReason.IncorrectDataFormat, tag));
    return undefined;
  }

  /** Reads the Header (`header`), the Body or the Trailer. */
  section(obj: JsonObject, header: boolean, def: MessageDef | undefined, trailer = false): void {
    for (const name of Object.keys(obj)) {
      if ((header || trailer) && FRAMING.has(name)) continue;
      const tag = this.tagOf(name);
      if (tag === undefined) continue;
      // the sections say where a field belongs; a field in the wrong one is out of order
      if (isHeaderTag(tag) !== header) this.fail(rejection(RejectReason.TagOutOfOrder, tag));
      const v = obj[name];
      if (Array.isArray(v)) this.groupField(tag, v, def?.fields.get(tag)?.group);
      else {
        const t = this.text(tag, v);
        if (t !== undefined) this.fields.push([tag, t]);
      }
    }
  }

  private groupField(tag: number, entries: Json[], group: GroupDef | undefined): void {
    if (fieldDef(tag)?.type !== 'NumInGroup') {
      this.fail(rejection(RejectReason.IncorrectDataFormat, tag));
      return;
    }
    this.fields.push([tag, String(entries.length)]);
    // not a group of this message: the count alone lets validate() say 373=2
    if (group === undefined) return;
    for (const entry of entries) {
      if (!isObject(entry)) {
        this.fail(rejection(RejectReason.IncorrectDataFormat, tag));
        return;
      }
      const delimiterName = fieldDef(group.delimiter)?.name ?? '';
      if (!Object.hasOwn(entry, delimiterName)) this.fail(rejection(RejectReason.RequiredTagMissing, group.delimiter));
      for (const m of group.members) {
        const name = fieldDef(m.tag)?.name ?? '';
        if (Object.hasOwn(entry, name)) {
          const t = this.text(m.tag, entry[name]);
          if (t !== undefined) this.fields.push([m.tag, t]);
        }
      }
      for (const name of Object.keys(entry)) {
        const t = this.tagOf(name);
        if (t !== undefined && !group.position.has(t)) this.fail(rejection(RejectReason.TagNotDefinedForMsgType, t));
      }
    }
  }
}

function garbled(reason: string): DecodeResult {
  return { ok: false, kind: 'garbled', reason };
}

/** Decodes one FIX JSON text frame. Never throws; bounded by `maxLength`. */
export function decodeJson(text: string, maxLength: number = DEFAULT_MAX_FRAME): DecodeResult {
  if (typeof text !== 'string') return garbled('not a text frame');
  if (text.length > maxLength) return garbled('frame larger than the limit');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return garbled('not JSON');
  }
  if (!isObject(parsed) || !isObject(parsed.Header)) return garbled('no Header object');
  const header = parsed.Header;
  const body = parsed.Body ?? {};
  const trailer = parsed.Trailer ?? {};
  if (!isObject(body) || !isObject(trailer)) return garbled('Body or Trailer is not an object');
  const rawType = header.MsgType;
  if (typeof rawType !== 'string' && !(typeof rawType === 'number' && Number.isFinite(rawType))) {
    return garbled('no MsgType in the Header');
  }
  const msgType = String(rawType);

  const reader = new Reader();
  reader.fields.push([35, msgType]);
  const def = messageDef(msgType);
  reader.section(header, true, def);
  reader.section(body, false, def);
  reader.section(trailer, false, def, true);
  const msg = new FixMessage(reader.fields);

  const beginString = header.BeginString;
  if (beginString !== undefined && beginString !== BEGIN_STRING) {
    return { ok: false, kind: 'beginString', msg, beginString: typeof beginString === 'string' ? beginString : String(beginString) };
  }
  const fault = reader.fault ?? validate(msg);
  return fault === undefined ? { ok: true, msg } : { ok: false, kind: 'reject', msg, rejection: fault };
}

function nameOf(tag: number): string {
  return fieldDef(tag)?.name ?? String(tag);
}

/**
 * The length of `fields` as one member of a FIX JSON repeating group, with its
 * comma: how the gateway bounds a message it splits (y fragments, X parts) in
 * the longer of its two encodings. Counted in characters, which are bytes for
 * what it measures (ids and decimals are printable ASCII).
 */
export function jsonEntryBytes(fields: readonly FixField[]): number {
  const o: Record<string, string> = {};
  for (const [t, v] of fields) o[nameOf(t)] = v;
  return JSON.stringify(o).length + 1;
}

/** Encodes `msg` as FIX JSON; groups of the message's dictionary entry become arrays. */
export function encodeJson(msg: FixMessage): string {
  const header: Record<string, string> = { BeginString: BEGIN_STRING, MsgType: msg.msgType };
  const body: Record<string, string | Record<string, string>[]> = {};
  const def = messageDef(msg.msgType);
  const fields = msg.fields;
  for (let i = 0; i < fields.length; i++) {
    const [tag, value] = fields[i];
    if (tag === 35 || tag === 8 || tag === 9 || tag === 10) continue;
    if (isHeaderTag(tag)) {
      header[nameOf(tag)] = value;
      continue;
    }
    const group = def?.fields.get(tag)?.group;
    if (group === undefined) {
      body[nameOf(tag)] = value;
      continue;
    }
    const entries: Record<string, string>[] = [];
    let entry: Record<string, string> | undefined;
    while (i + 1 < fields.length && group.position.has(fields[i + 1][0])) {
      const [t, v] = fields[++i];
      if (t === group.delimiter || entry === undefined) {
        entry = {};
        entries.push(entry);
      }
      entry[nameOf(t)] = v;
    }
    body[nameOf(tag)] = entries;
  }
  return JSON.stringify({ Header: header, Body: body, Trailer: {} });
}
