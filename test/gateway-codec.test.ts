// The FIX codecs: tag=value framing (BodyLength, CheckSum), FIX JSON, the
// dictionary against an independent FIX 4.4 dictionary (jspurefix's copy of
// the QuickFIX FIX44.xml), messages we encode read by jspurefix's parser and
// messages jspurefix encodes read by ours, and fuzzing: no input makes a
// decoder throw, and every answer is a message, a reject or "ignore".

import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import jspurefix from 'jspurefix';
import { fix44, fixXml, jsParse, reference } from './jspurefix.js';
import { FixMessage, SOH } from '../gateway/fix/message.js';
import { decodeTagValue, encodeTagValue, encodedBody, encodeWithBody, DEFAULT_MAX_FRAME } from '../gateway/fix/tagvalue.js';
import { assertProperty } from './property.js';
import { decodeJson, encodeJson } from '../gateway/fix/json.js';
import { type DecodeResult, formatUtcTimestamp, parseUtcTimestamp, validate } from '../gateway/fix/validate.js';
import {
  EXTENSIONS,
  HEADER,
  type FieldDef,
  type MemberDef,
  type MessageDef,
  allFields,
  allMessages,
  fieldDef,
  messageDef,
} from '../gateway/fix/dictionary.js';

const require = createRequire(import.meta.url);
const T = '20240131-14:05:09.123';

// --- helpers -------------------------------------------------------------------

/** BodyLength and CheckSum computed here, independently of the encoder under test. */
function frame(fields: string): string {
  const parts = fields.split('|').filter((p) => p !== '');
  const body = parts
    .slice(1)
    .map((p) => p + SOH)
    .join('');
  const head = `${parts[0]}${SOH}9=${Buffer.byteLength(body)}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body)) sum += b;
  return `${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

const HDR = `8=FIX.4.4|35=%|34=2|49=alice|52=${T}|56=MATCHLOG`;
const msg = (type: string, body: string): string => frame(`${HDR.replace('%', type)}|${body}`);
const NOS = `11=c1|21=1|55=ETH_XBT|54=1|60=${T}|38=5|40=2|44=1600|59=1|7928=2`;

function rejected(r: DecodeResult): { reason: number; tag?: number } {
  assert.equal(r.ok, false, 'expected a reject');
  assert.ok(!r.ok && r.kind === 'reject', `expected a reject, got ${JSON.stringify(r)}`);
  return { reason: r.rejection.reason, tag: r.rejection.refTagId };
}

function garbled(r: DecodeResult): void {
  assert.ok(!r.ok && r.kind === 'garbled', `expected garbled, got ${JSON.stringify(r)}`);
}

/** A plausible value of each FIX type, the first enumerated one when there is a list. */
function sample(def: FieldDef): string {
  if (def.values !== undefined) return [...def.values.keys()][0];
  switch (def.type) {
    case 'int':
    case 'SeqNum':
    case 'Length':
    case 'NumInGroup':
      return '3';
    case 'Qty':
    case 'Price':
    case 'PriceOffset':
    case 'Amt':
    case 'float':
      return '1.25';
    case 'char':
      return 'A';
    case 'Boolean':
      return 'Y';
    case 'Exchange':
      return 'XMEX';
    case 'Currency':
      return 'USD';
    case 'UTCTimestamp':
      return T;
    case 'UTCTimeOnly':
      return '14:05:09.123';
    case 'UTCDateOnly':
    case 'LocalMktDate':
      return '20240131';
    case 'String':
    case 'MultipleValueString':
      return `v${def.tag}`;
  }
}

/** Every field of the message, groups with two instances of every member. */
/** The header the gateway writes, MsgSeqNum 7. */
function headerOf(def: MessageDef): FixMessage {
  return new FixMessage([
    [35, def.msgType],
    [34, '7'],
    [49, 'MATCHLOG'],
    [52, T],
    [56, 'alice'],
  ]);
}

function fullMessage(def: MessageDef): FixMessage {
  const m = headerOf(def);
  const add = (members: readonly MemberDef[]): void => {
    for (const member of members) {
      const fd = fieldDef(member.tag);
      assert.ok(fd !== undefined, `tag ${member.tag} of ${def.name} has no field definition`);
      if (member.group !== undefined) {
        m.add(member.tag, 2);
        add(member.group.members);
        add(member.group.members);
      } else if (member.tag === 372) {
        m.add(372, 'D');
      } else {
        m.add(member.tag, sample(fd));
      }
    }
  };
  add(def.body);
  return m;
}

function requiredOnly(def: MessageDef): FixMessage {
  const m = headerOf(def);
  for (const member of def.body) {
    if (!member.required) continue;
    if (member.group !== undefined) {
      m.add(member.tag, 1);
      for (const g of member.group.members) if (g.required || g.tag === member.group.delimiter) m.add(g.tag, sample(fieldDef(g.tag) as FieldDef));
    } else {
      m.add(member.tag, member.tag === 372 ? 'D' : sample(fieldDef(member.tag) as FieldDef));
    }
  }
  return m;
}

// --- tag=value -------------------------------------------------------------------

test('encode: 8, 9, 35 first, CheckSum last, BodyLength and CheckSum right (UTF-8 bytes)', () => {
  const m = new FixMessage([
    [34, '3'],
    [35, '5'],
    [49, 'MATCHLOG'],
    [52, T],
    [56, 'alice'],
    [58, 'café ✓ 𝄞'],
  ]);
  const f = encodeTagValue(m);
  assert.ok(f.startsWith(`8=FIX.4.4${SOH}9=`));
  const fields = f.split(SOH);
  assert.equal(fields[2], '35=5');
  assert.equal(fields[3], '34=3');
  const bytes = Buffer.from(f, 'utf8');
  const bodyStart = bytes.indexOf(Buffer.from(`${SOH}35=`)) + 1;
  const trailer = bytes.lastIndexOf(Buffer.from('10='));
  assert.equal(Number(fields[1].slice(2)), trailer - bodyStart, 'BodyLength counts bytes from 35= to 10=');
  let sum = 0;
  for (let i = 0; i < trailer; i++) sum += bytes[i];
  assert.equal(f.slice(-4, -1), String(sum % 256).padStart(3, '0'));
  const back = decodeTagValue(f);
  assert.ok(back.ok, JSON.stringify(back));
  assert.equal(back.msg.get(58), 'café ✓ 𝄞');
});

test('decode: BodyLength and CheckSum are checked; a frame that is not exactly one message is garbled', () => {
  const good = msg('0', 'a=b'.replace('a=b', '112=x'));
  assert.ok(decodeTagValue(good).ok);
  const sumAt = good.lastIndexOf('10=') + 3;
  const wrongSum = good.slice(0, sumAt) + String((Number(good.slice(sumAt, sumAt + 3)) + 1) % 256).padStart(3, '0') + SOH;
  garbled(decodeTagValue(wrongSum));
  garbled(decodeTagValue(good.replace(/9=(\d+)/, (_, n: string) => `9=${Number(n) + 1}`)));
  garbled(decodeTagValue(good.replace(/9=(\d+)/, (_, n: string) => `9=${Number(n) - 1}`)));
  garbled(decodeTagValue(good.slice(0, -1))); // not SOH-terminated
  garbled(decodeTagValue(good + good)); // two messages in one frame
  garbled(decodeTagValue(good.replace(/10=\d\d\d/, '10=7'))); // CheckSum not three digits
  garbled(decodeTagValue(good.replace(`${SOH}35=0${SOH}34=2`, `${SOH}34=2${SOH}35=0`))); // MsgType not third
  garbled(decodeTagValue(good.replace('8=FIX.4.4', '9=FIX.4.4')));
  garbled(decodeTagValue(frame(`8=FIX.4.4|35=0|34=2|4garbled9=x|52=${T}|56=MATCHLOG`)));
  garbled(decodeTagValue(''));
  garbled(decodeTagValue('x'.repeat(DEFAULT_MAX_FRAME + 1)));
  const other = decodeTagValue(frame(`8=FIX.4.2|35=0|34=2|49=alice|52=${T}|56=MATCHLOG`));
  assert.ok(!other.ok && other.kind === 'beginString' && other.beginString === 'FIX.4.2' && other.msg.get(34) === '2');
});

test('decode: each session reject reason on a well-framed message', () => {
  const cases: [string, number, number | undefined][] = [
    [msg('0', '999=x'), 0, 999],
    [msg('0', '-1=x'), 0, -1],
    [frame(`8=FIX.4.4|35=0|34=2|49=alice|52=${T}`), 1, 56],
    [msg('D', NOS.replace('11=c1|', '')), 1, 11],
    [msg('0', '55=X'), 2, 55],
    [msg('0', '112='), 4, 112],
    [msg('D', NOS.replace('54=1', '54=Z')), 5, 54],
    [msg('D', NOS.replace('38=5', '38=-5')), 5, 38],
    [msg('D', NOS.replace('38=5', '38=0')), 5, 38],
    [msg('D', NOS.replace('7928=2', '7928=4')), 5, 7928],
    [msg('D', NOS.replace('38=5', '38=+5')), 6, 38],
    [msg('D', NOS.replace('38=5', '38=NaN')), 6, 38],
    [msg('D', NOS.replace('38=5', '38=1e3')), 6, 38],
    [msg('D', NOS.replace(`60=${T}`, '60=20240231-00:00:00')), 6, 60],
    [msg('0', '43=maybe'), 6, 43],
    [msg('D', NOS.replace('40=2', '40=2|40=1')), 13, 40],
    [frame(`8=FIX.4.4|35=D|${NOS}|34=2|49=alice|52=${T}|56=MATCHLOG`), 14, 34],
    [msg('V', '262=r|263=1|264=0|267=1|269=0|146=2|55=A'), 16, 146],
    [msg('V', '262=r|263=1|264=0|267=2|269=0|146=1|55=A'), 16, 267],
    [msg('X', '268=1|269=0|279=0'), 15, 269],
    [msg('X', '268=2|279=0|269=0|269=1'), 13, 269],
    [msg('X', '268=2|279=0|269=0|269=1|279=0'), 13, 269],
    [msg('X', '268=2|279=0|269=0|270=1|269=1'), 15, 269],
    [msg('X', '268=2|279=0|269=0|279=1|269=1|83=2|83=3'), 13, 83],
    [msg('W', '55=A|268=2|269=0|270=1|270=2'), 13, 270],
    [msg('W', '55=A|268=2|269=0|270=1|271=2|269=1|58=x|271=3'), 15, 271],
    [msg('x', '559=4'), 1, 320],
    [msg('x', '320=s1'), 1, 559],
    [msg('x', '320=s1|559=9'), 5, 559],
    [msg('x', '320=s1|559=4|263=5'), 5, 263],
    [msg('x', '320=s1|559=0|55=A|167=CS'), 2, 167], // FIX 4.4's Instrument, left out: the list is filtered by Symbol only
    [msg('x', '320=s1|559=0|55=A|969=1'), 2, 969], // the tick size is y's, not x's
  ];
  for (const [f, reason, tag] of cases) {
    const d = decodeTagValue(f);
    assert.ok(!d.ok, f.replaceAll(SOH, '|'));
    const r = rejected(d);
    assert.deepEqual([r.reason, r.tag], [reason, tag], f.replaceAll(SOH, '|'));
  }
  const wrongType = decodeTagValue(msg('*', ''));
  assert.ok(!wrongType.ok && wrongType.kind === 'reject' && wrongType.rejection.reason === 11 && wrongType.rejection.refTagId === undefined);
  // a required member of a group instance
  assert.deepEqual(rejected(decodeTagValue(msg('W', '55=A|268=1|270=1'))).reason, 15);
  assert.deepEqual(rejected(decodeTagValue(msg('V', '262=r|263=1|264=0|146=1|55=A'))), { reason: 1, tag: 267 });
});

test('decode: what a FIX 4.4 session must accept', () => {
  for (const f of [
    msg('D', NOS),
    msg('D', `${NOS.replace('38=5', '38=002000.00')}|386=0`), // leading zeros; NumInGroup 0 (QuickFIX script 21's point)
    msg('D', `${NOS}|386=2|336=PRE|625=a|336=MAIN`),
    msg('D', `${NOS.replace('60=', '18=6 G|60=')}`), // ExecInst: space-separated values
    frame(`8=FIX.4.4|35=D|49=alice|34=2|56=MATCHLOG|52=${T}|40=2|55=ETH_XBT|60=${T}|54=1|11=c1|38=5|44=1`), // any order within header and body
    msg('4', '36=0'), // SequenceReset mode may carry anything
    msg('V', '262=r|263=1|264=0|267=2|269=0|269=1|146=2|55=A|55=B'),
    msg('X', '268=2|279=0|269=0|55=A|270=1|271=2|83=1|279=2|269=1|55=A|270=3|83=2'),
    msg('0', '122=20240131-14:05:09|43=N|97=N'),
    msg('0', '52=x'.replace('52=x', '369=4')),
    msg('d', '320=a|55=B|454=0'), // a FIX 4.4 message outside the gateway's set: the session answers it (35=j)
    msg('x', '320=s1|559=4'),
    msg('x', '320=s1|559=0|55=BTC-USD|263=0'),
    msg('y', '320=s1|322=r1|560=0|393=2|893=Y|146=2|55=A|561=1|562=1|969=0.5|55=B|561=0.0001|562=0.001|969=0.00001|1140=10'),
  ]) {
    const r = decodeTagValue(f);
    assert.ok(r.ok, `${f.replaceAll(SOH, '|')}: ${JSON.stringify(r)}`);
  }
});

test('UTCTimestamp: seconds, milliseconds, micro and nanoseconds; impossible dates refused', () => {
  assert.equal(parseUtcTimestamp('20240131-14:05:09'), Date.UTC(2024, 0, 31, 14, 5, 9));
  assert.equal(parseUtcTimestamp('20240131-14:05:09.123'), Date.UTC(2024, 0, 31, 14, 5, 9, 123));
  assert.equal(parseUtcTimestamp('20240131-14:05:09.123456'), Date.UTC(2024, 0, 31, 14, 5, 9, 123));
  assert.equal(parseUtcTimestamp('20240131-14:05:09.123456789'), Date.UTC(2024, 0, 31, 14, 5, 9, 123));
  for (const bad of ['20240230-00:00:00', '20241301-00:00:00', '20240131-24:00:00', '20240131 14:05:09', '20240131-14:05:09.1', '2024013-14:05:09', '']) {
    assert.ok(Number.isNaN(parseUtcTimestamp(bad)), bad);
  }
  assert.equal(formatUtcTimestamp(Date.UTC(2024, 0, 31, 14, 5, 9, 7)), '20240131-14:05:09.007');
});

// --- FIX JSON ----------------------------------------------------------------------

test('FIX JSON: every message round-trips through both encodings', () => {
  for (const def of allMessages()) {
    for (const m of [fullMessage(def), requiredOnly(def)]) {
      assert.equal(validate(m), undefined, `${def.name}: ${m}`);
      const tv = decodeTagValue(encodeTagValue(m));
      assert.ok(tv.ok, `${def.name} tag=value: ${JSON.stringify(tv)}`);
      assert.deepEqual(tv.msg.fields, m.fields);
      const json = encodeJson(m);
      const back = decodeJson(json);
      assert.ok(back.ok, `${def.name} JSON: ${JSON.stringify(back)}`);
      assert.deepEqual(back.msg.fields, m.fields, def.name);
    }
  }
});

test('FIX JSON: the guideline shape, strings everywhere, groups as arrays named after NumInGroup', () => {
  const w = decodeTagValue(msg('W', '262=r|55=ETH_XBT|268=2|269=0|270=1600|271=5|269=1|270=1601|271=3'));
  assert.ok(w.ok);
  assert.deepEqual(JSON.parse(encodeJson(w.msg)), {
    Header: { BeginString: 'FIX.4.4', MsgType: 'W', MsgSeqNum: '2', SenderCompID: 'alice', SendingTime: T, TargetCompID: 'MATCHLOG' },
    Body: {
      MDReqID: 'r',
      Symbol: 'ETH_XBT',
      NoMDEntries: [
        { MDEntryType: '0', MDEntryPx: '1600', MDEntrySize: '5' },
        { MDEntryType: '1', MDEntryPx: '1601', MDEntrySize: '3' },
      ],
    },
    Trailer: {},
  });
});

test('FIX JSON: a SecurityList (y) as the browser gets it; the extension 969 by its FIX 5.0 name both ways', () => {
  const y = decodeTagValue(msg('y', '320=s1|322=r1|560=0|393=2|893=Y|146=2|55=BTC-USD|561=0.0001|562=0.0001|969=0.5|1140=100|55=EUR-USD|561=1000|562=1000|969=0.00001'));
  assert.ok(y.ok, JSON.stringify(y));
  const json = encodeJson(y.msg);
  assert.deepEqual(JSON.parse(json), {
    Header: { BeginString: 'FIX.4.4', MsgType: 'y', MsgSeqNum: '2', SenderCompID: 'alice', SendingTime: T, TargetCompID: 'MATCHLOG' },
    Body: {
      SecurityReqID: 's1',
      SecurityResponseID: 'r1',
      SecurityRequestResult: '0',
      TotNoRelatedSym: '2',
      LastFragment: 'Y',
      NoRelatedSym: [
        { Symbol: 'BTC-USD', RoundLot: '0.0001', MinTradeVol: '0.0001', MinPriceIncrement: '0.5', MaxTradeVol: '100' },
        { Symbol: 'EUR-USD', RoundLot: '1000', MinTradeVol: '1000', MinPriceIncrement: '0.00001' },
      ],
    },
    Trailer: {},
  });
  const back = decodeJson(json);
  assert.ok(back.ok, JSON.stringify(back));
  assert.deepEqual(back.msg.fields, y.msg.fields);
  // the browser's request, by names
  const x = decodeJson(JSON.stringify({
    Header: { MsgType: 'x', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: 3, SendingTime: T },
    Body: { SecurityReqID: 's2', SecurityListRequestType: '0', Symbol: 'BTC-USD', SubscriptionRequestType: '0' },
  }));
  assert.ok(x.ok, JSON.stringify(x));
  assert.deepEqual(x.msg.fields.slice(-4), [[320, 's2'], [559, '0'], [55, 'BTC-USD'], [263, '0']]);
  assert.deepEqual(rejected(decodeJson(JSON.stringify({
    Header: { MsgType: 'x', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: 3, SendingTime: T },
    Body: { SecurityListRequestType: '4' },
  }))), { reason: 1, tag: 320 });
});

test('FIX JSON: input as a browser writes it (numbers, any key order, user-defined tag by number)', () => {
  const r = decodeJson(
    JSON.stringify({
      Header: { MsgType: 'V', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: 2, SendingTime: T },
      Body: { NoRelatedSym: [{ Symbol: 'ETH_XBT' }], MarketDepth: 0, NoMDEntryTypes: [{ MDEntryType: '0' }, { MDEntryType: '2' }], SubscriptionRequestType: '1', MDReqID: 'm1' },
    }),
  );
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.msg.get(34), '2');
  assert.deepEqual(r.msg.getAll(269), ['0', '2']);
  const d = decodeJson(
    JSON.stringify({
      Header: { BeginString: 'FIX.4.4', MsgType: 'D', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: '3', SendingTime: T },
      Body: { ClOrdID: 'c', Symbol: 'X', Side: '1', TransactTime: T, OrdType: '2', OrderQty: '1', Price: '2', '7928': '3' },
      Trailer: {},
    }),
  );
  assert.ok(d.ok, JSON.stringify(d));
  assert.equal(d.msg.get(7928), '3');
});

test('FIX JSON: decode errors map to the same rejects; not JSON is garbled', () => {
  const base = { MsgType: 'D', SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: '3', SendingTime: T };
  const body = { ClOrdID: 'c', Symbol: 'X', Side: '1', TransactTime: T, OrdType: '2', OrderQty: '1', Price: '2' };
  const r = (o: unknown): { reason: number; tag?: number } => rejected(decodeJson(JSON.stringify(o)));
  assert.deepEqual(r({ Header: base, Body: { ...body, Colour: 'red' } }), { reason: 3, tag: undefined });
  assert.deepEqual(r({ Header: base, Body: { ...body, OrderQty: '-1' } }), { reason: 5, tag: 38 });
  assert.deepEqual(r({ Header: base, Body: { ...body, OrderQty: true } }), { reason: 6, tag: 38 });
  assert.deepEqual(r({ Header: base, Body: { ...body, OrderQty: null } }), { reason: 4, tag: 38 });
  assert.deepEqual(r({ Header: base, Body: { ...body, OrderQty: { v: 1 } } }), { reason: 6, tag: 38 });
  assert.deepEqual(r({ Header: base, Body: { ...body, Text: `a${SOH}b` } }), { reason: 17, tag: 58 });
  assert.deepEqual(r({ Header: base, Body: { ...body, ClOrdID: undefined } }), { reason: 1, tag: 11 });
  assert.deepEqual(r({ Header: base, Body: { ...body, MsgSeqNum: '3' } }), { reason: 14, tag: 34 });
  assert.deepEqual(r({ Header: { ...base, ClOrdID: 'c' }, Body: body }), { reason: 14, tag: 11 });
  assert.deepEqual(r({ Header: base, Body: { ...body, NoTradingSessions: [{ TradingSessionSubID: 'x' }] } }), { reason: 1, tag: 336 });
  assert.deepEqual(r({ Header: base, Body: { ...body, NoTradingSessions: [{ TradingSessionID: 'a', Side: '1' }] } }), { reason: 2, tag: 54 });
  assert.deepEqual(r({ Header: base, Body: { ...body, NoMDEntries: [] } }), { reason: 2, tag: 268 });
  assert.deepEqual(r({ Header: base, Body: { ...body, Symbol: ['X'] } }), { reason: 6, tag: 55 });
  assert.deepEqual(r({ Header: { ...base, MsgType: '*' }, Body: {} }), { reason: 11, tag: undefined });
  const v = decodeJson(JSON.stringify({ Header: { ...base, BeginString: 'FIXT.1.1' }, Body: body }));
  assert.ok(!v.ok && v.kind === 'beginString');
  for (const text of ['', 'nope', '[]', '{"Header":1}', '{"Header":{}}', '{"Header":{"MsgType":"0"},"Body":[]}', 'x'.repeat(DEFAULT_MAX_FRAME + 1)]) {
    garbled(decodeJson(text));
  }
});

// --- the dictionary against FIX 4.4 (jspurefix / QuickFIX FIX44.xml) ------------------

interface RefMember {
  tag: number;
  required: boolean;
  members?: RefMember[];
}

interface ContainedField {
  name: string;
  type: number; // 0 component, 1 group, 2 simple
  required: boolean;
  definition: { tag?: number; fields?: ContainedField[]; noOfField?: { tag: number } };
}

/** Components flattened: a field is required when it and every component around it are. */
function flatten(fields: ContainedField[], required: boolean): RefMember[] {
  const out: RefMember[] = [];
  for (const f of fields) {
    if (f.type === 0) {
      if (f.name === 'StandardHeader' || f.name === 'StandardTrailer') continue;
      out.push(...flatten(f.definition.fields ?? [], required && f.required));
    } else if (f.type === 1) {
      out.push({ tag: f.definition.noOfField?.tag ?? -1, required: required && f.required, members: flatten(f.definition.fields ?? [], true) });
    } else {
      out.push({ tag: f.definition.tag ?? -1, required: required && f.required });
    }
  }
  return out;
}

function isExtension(tag: number, msgType: string): boolean {
  return EXTENSIONS.some((e) => e.tag === tag && e.msgTypes.includes(msgType));
}

/** Ours is the reference's subset, in the reference's order, with its required flags. */
function compareMembers(ours: readonly MemberDef[], ref: RefMember[], where: string, msgType: string): void {
  let last = -1;
  for (const m of ours) {
    const at = ref.findIndex((r) => r.tag === m.tag);
    if (at < 0) {
      assert.ok(isExtension(m.tag, msgType), `${where}: tag ${m.tag} is not in FIX 4.4 here and not a listed extension`);
      continue;
    }
    assert.ok(at > last, `${where}: tag ${m.tag} is out of FIX 4.4 order`);
    last = at;
    assert.equal(m.required, ref[at].required, `${where}: tag ${m.tag} required flag`);
    assert.equal(m.group !== undefined, ref[at].members !== undefined, `${where}: tag ${m.tag} group or not`);
    if (m.group !== undefined) compareMembers(m.group.members, ref[at].members ?? [], `${where} group ${m.tag}`, msgType);
  }
  for (const r of ref) {
    if (r.required) assert.ok(ours.some((m) => m.tag === r.tag), `${where}: required tag ${r.tag} left out`);
  }
}

test('dictionary: names, types and enumerations are FIX 4.4; a field FIX 4.4 lacks is there only as a listed extension', async () => {
  const defs = await fix44();
  for (const f of allFields()) {
    const ref = defs.tagToSimple[f.tag];
    const ext = EXTENSIONS.find((e) => e.tag === f.tag);
    if (ref === undefined) {
      // not FIX 4.4: only as an extension that says what it is, and where it comes from
      assert.ok(ext?.field !== undefined, `tag ${f.tag} ${f.name} is not a FIX 4.4 field and not a listed extension with its name and type`);
      assert.equal(f.name, ext.field.name, `tag ${f.tag}: the name EXTENSIONS documents`);
      assert.equal(f.type, ext.field.type, `tag ${f.tag} ${f.name}: the type EXTENSIONS documents`);
      assert.ok(ext.msgTypes.length > 0 && ext.why.length > 0);
      continue; // its values, if any, are documented in `why`
    }
    assert.equal(ext?.field, undefined, `tag ${f.tag} is a FIX 4.4 field: an extension may move it, not define it`);
    assert.equal(f.name, ref.name, `tag ${f.tag}`);
    assert.equal(f.type.toUpperCase(), ref.type, `tag ${f.tag} ${f.name} type`);
    const refValues = new Set(ref.enums?.keys() ?? []);
    const ours = new Set(f.values?.keys() ?? []);
    // the QuickFIX file runs OrdRejReason 11 and 12 together in one entry; FIX 4.4 has both
    if (f.tag === 103) refValues.add('12');
    assert.deepEqual([...ours].sort(), [...refValues].sort(), `tag ${f.tag} ${f.name} values`);
  }
});

test('dictionary: an extension taken from FIX 5.0 has FIX 5.0\'s name and type; each is in the parser\'s reference', async () => {
  const xml50 = fixXml('FIX50SP2');
  const patched = await reference();
  for (const e of EXTENSIONS) {
    if (e.field === undefined) continue;
    assert.equal(fieldDef(e.tag)?.name, e.field.name);
    assert.equal(patched.tagToSimple[e.tag]?.name, e.field.name, `tag ${e.tag} is added to jspurefix's FIX 4.4 in test/jspurefix.ts`);
    if (!e.field.source.startsWith('FIX 5.0')) continue;
    const m = new RegExp(`<field number='${e.tag}' name='([A-Za-z]+)' type='([A-Z]+)'`).exec(xml50);
    assert.ok(m !== null, `tag ${e.tag} is in FIX 5.0 SP2`);
    assert.equal(e.field.name, m[1], `tag ${e.tag}: FIX 5.0's name`);
    assert.equal(e.field.type.toUpperCase(), m[2], `tag ${e.tag}: FIX 5.0's type`);
  }
  assert.deepEqual(EXTENSIONS.filter((e) => e.field !== undefined).map((e) => e.tag).sort((a, b) => a - b), [969, 1140, 2446, 7928]);
});

test('dictionary: every message is a subset of its FIX 4.4 definition, in order, with the required flags', async () => {
  const defs = await fix44();
  for (const def of allMessages()) {
    const ref = defs.message.get(def.msgType) as unknown as { name: string; fields: ContainedField[] } | undefined;
    assert.ok(ref !== undefined, def.msgType);
    assert.equal(def.name, ref.name);
    compareMembers(def.body, flatten(ref.fields, true), def.name, def.msgType);
  }
  const header = defs.component.get('StandardHeader') as unknown as { fields: ContainedField[] };
  // BeginString, BodyLength and MsgType are the codec's, not the header list's
  const framing = new Set([8, 9, 35]);
  compareMembers(HEADER, flatten(header.fields, true).filter((r) => !framing.has(r.tag)), 'StandardHeader', '');
  assert.equal(messageDef('D')?.fields.get(7928)?.required, false);
});

// --- jspurefix as an independent parser and encoder -------------------------------------

test('every message the gateway encodes parses and validates with jspurefix (FIX 4.4 + the listed extensions)', async () => {
  for (const def of allMessages()) {
    for (const m of [fullMessage(def), requiredOnly(def)]) {
      const text = encodeTagValue(m);
      const parsed = await jsParse(text);
      assert.equal(parsed.length, 1, `${def.name}: jspurefix found ${parsed.length} messages`);
      const { msgType, view } = parsed[0];
      assert.equal(msgType, def.msgType);
      assert.deepEqual(view.missing(), [], `${def.name}: required fields missing for jspurefix`);
      assert.deepEqual(view.invalid(), [], `${def.name}: invalid for jspurefix`);
      assert.equal(view.getUndefined() ?? null, null, `${def.name}: undefined tags for jspurefix`);
      assert.equal(view.checksum(), Number(text.slice(-4, -1)), `${def.name}: checksum`);
      assert.equal(view.getString(34), '7');
      for (const [tag, value] of m.fields) {
        if (tag === 35) continue;
        assert.ok((view.getStrings(tag) ?? []).includes(value), `${def.name}: jspurefix reads ${tag}=${value}`);
      }
    }
  }
});

test('jspurefix notices a wrong tag or a missing required field (the check above is not vacuous)', async () => {
  const [bad] = await jsParse(encodeTagValue(new FixMessage([[35, '0'], [34, '1'], [49, 'a'], [52, T], [56, 'b'], [999, 'x']])));
  assert.notEqual(bad.view.getUndefined() ?? null, null);
  const d = requiredOnly(messageDef('D') as MessageDef).remove(11);
  const [missing] = await jsParse(encodeTagValue(d));
  assert.ok(missing.view.missing().includes(11));
});

/** jspurefix writes placeholders for BodyLength and CheckSum; a transmitter fills them in. */
function finishJsFrame(buf: Buffer): string {
  let text = buf.toString('utf8');
  const bodyStart = text.indexOf(`${SOH}35=`) + 1;
  const trailer = text.lastIndexOf(`${SOH}10=`) + 1;
  const body = text.slice(bodyStart, trailer);
  text = `8=FIX.4.4${SOH}9=${Buffer.byteLength(body)}${SOH}${body}`;
  let sum = 0;
  for (const b of Buffer.from(text)) sum += b;
  return `${text}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

test('messages encoded by jspurefix are accepted by the gateway decoder', async () => {
  const defs = await reference();
  const { AsciiEncoder } = require('jspurefix/dist/buffer/ascii/ascii-encoder.js') as {
    AsciiEncoder: new (b: unknown, d: unknown, t: undefined, delimiter: number) => { encode(o: object, name: string): void; trim(): Buffer; reset(): void };
  };
  const now = new Date(Date.UTC(2024, 0, 31, 14, 5, 9, 123));
  const header = (type: string): object => ({ BeginString: 'FIX.4.4', BodyLength: 0, MsgType: type, SenderCompID: 'alice', TargetCompID: 'MATCHLOG', MsgSeqNum: 5, SendingTime: now });
  const trailer = { CheckSum: '000' };
  const messages: [string, string, object][] = [
    ['A', 'Logon', { EncryptMethod: 0, HeartBtInt: 30, ResetSeqNumFlag: true, Username: 'alice', Password: 'pw' }],
    ['0', 'Heartbeat', { TestReqID: 't' }],
    ['1', 'TestRequest', { TestReqID: 't' }],
    ['2', 'ResendRequest', { BeginSeqNo: 1, EndSeqNo: 0 }],
    ['3', 'Reject', { RefSeqNum: 2, RefTagID: 38, RefMsgType: 'D', SessionRejectReason: 5, Text: 'x' }],
    ['4', 'SequenceReset', { GapFillFlag: true, NewSeqNo: 9 }],
    ['5', 'Logout', { Text: 'bye' }],
    [
      'D',
      'NewOrderSingle',
      {
        ClOrdID: 'c1',
        HandlInst: '1',
        ExecInst: '6',
        Instrument: { Symbol: 'ETH_XBT' },
        Side: '1',
        TransactTime: now,
        OrderQtyData: { OrderQty: 5 },
        OrdType: '2',
        Price: 1600.5,
        TimeInForce: '1',
        SelfTradePrevention: 2,
        TrdgSesGrp: { NoTradingSessions: [{ TradingSessionID: 'MAIN' }] },
      },
    ],
    ['F', 'OrderCancelRequest', { OrigClOrdID: 'c1', ClOrdID: 'c2', Instrument: { Symbol: 'ETH_XBT' }, Side: '1', TransactTime: now, OrderQtyData: { OrderQty: 5 } }],
    [
      'G',
      'OrderCancelReplaceRequest',
      { OrigClOrdID: 'c1', ClOrdID: 'c3', Instrument: { Symbol: 'ETH_XBT' }, Side: '1', TransactTime: now, OrderQtyData: { OrderQty: 4 }, OrdType: '2', Price: 1601 },
    ],
    ['H', 'OrderStatusRequest', { OrderID: '9', ClOrdID: 'c1', Instrument: { Symbol: 'ETH_XBT' }, Side: '1' }],
    ['q', 'OrderMassCancelRequest', { ClOrdID: 'm1', MassCancelRequestType: '7', TransactTime: now }],
    [
      'V',
      'MarketDataRequest',
      {
        MDReqID: 'r1',
        SubscriptionRequestType: '1',
        MarketDepth: 0,
        MDReqGrp: { NoMDEntryTypes: [{ MDEntryType: '0' }, { MDEntryType: '1' }, { MDEntryType: '2' }] },
        InstrmtMDReqGrp: { NoRelatedSym: [{ Instrument: { Symbol: 'ETH_XBT' } }, { Instrument: { Symbol: 'BTC_USD' } }] },
      },
    ],
    ['j', 'BusinessMessageReject', { RefSeqNum: 3, RefMsgType: 'd', BusinessRejectReason: 3, Text: 'no' }],
  ];
  for (const [type, name, body] of messages) {
    const encoder = new AsciiEncoder(new jspurefix.ElasticBuffer(4096), defs, undefined, 1);
    encoder.encode({ StandardHeader: header(type), ...body, StandardTrailer: trailer }, name);
    const text = finishJsFrame(encoder.trim());
    const r = decodeTagValue(text);
    assert.ok(r.ok, `${name}: ${text.replaceAll(SOH, '|')} -> ${JSON.stringify(r)}`);
    assert.equal(r.msg.msgType, type);
    assert.equal(r.msg.get(34), '5');
    const j = decodeJson(encodeJson(r.msg));
    assert.ok(j.ok && j.msg.toString() === r.msg.toString(), name);
  }
});

// --- fuzzing -------------------------------------------------------------------------

const RUNS = Number(process.env.MATCHLOG_PROPERTY_RUNS ?? 300);

function sane(r: DecodeResult): void {
  // a result is one of the four kinds, and an accepted message re-encodes to itself
  if (r.ok) {
    const again = decodeTagValue(encodeTagValue(r.msg));
    assert.ok(again.ok && again.msg.toString() === r.msg.toString());
  } else {
    assert.ok(r.kind === 'garbled' || r.kind === 'beginString' || r.kind === 'reject');
    if (r.kind === 'reject') assert.ok(Number.isInteger(r.rejection.reason) && r.rejection.text.length > 0);
  }
}

const VALID = [
  msg('D', NOS),
  msg('0', '112=hello'),
  msg('V', '262=r|263=1|264=0|267=2|269=0|269=1|146=1|55=ETH_XBT'),
  msg('X', '268=2|279=0|269=0|55=A|270=1|271=2|83=1|279=2|269=1|55=A|270=3|83=2'),
  msg('A', '98=0|108=30|553=alice|554=pw'),
];

test('fuzz: random text and bytes never make the decoders throw', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
      sane(decodeTagValue(s));
      sane(decodeTagValue(`8=FIX.4.4${SOH}${s}`));
      const j = decodeJson(s);
      assert.ok(j.ok || j.kind !== undefined);
    }),
    { numRuns: RUNS * 3 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      sane(decodeTagValue(Buffer.from(bytes).toString('latin1')));
      sane(decodeTagValue(Buffer.from(bytes).toString('utf8')));
    }),
    { numRuns: RUNS * 3 },
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const r = decodeJson(JSON.stringify(v) ?? '');
      assert.ok(r.ok || r.kind === 'garbled' || r.kind === 'reject' || r.kind === 'beginString');
      const r2 = decodeJson(JSON.stringify({ Header: { MsgType: 'D', SenderCompID: v }, Body: { OrderQty: v, NoMDEntries: v } }));
      assert.ok(!r2.ok);
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: truncated and mutated valid messages are garbled, rejected or accepted, never a throw', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 8 }) }),
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), code: fc.integer({ min: 0, max: 0x10ffff }) }),
  );
  fc.assert(
    fc.property(fc.constantFrom(...VALID), fc.array(mutation, { minLength: 1, maxLength: 4 }), (f, ms) => {
      let s = f;
      for (const m of ms) {
        const at = m.at % (s.length + 1);
        if (m.kind === 'truncate') s = s.slice(0, at);
        else if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.len);
        else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
        else s = s.slice(0, at) + String.fromCodePoint(m.code) + s.slice(at + 1);
      }
      sane(decodeTagValue(s));
    }),
    { numRuns: RUNS * 3 },
  );
});

test('fuzz: wrong types and hostile values in well-framed messages are rejected with a reason, never garbled', () => {
  const value = fc.oneof(
    fc.constantFrom('NaN', '-1', '-0', '0', 'Infinity', '1e9', '+1', '0x10', ' 1', '1 ', '', '=', '9'.repeat(40), '-', '.', '1.2.3'),
    fc.string({ maxLength: 12 }).filter((v) => !v.includes(SOH)),
  );
  const tags = [11, 38, 40, 44, 54, 55, 59, 60, 18, 7928, 21, 126, 386, 34, 52, 43, 112, 999, 0];
  fc.assert(
    fc.property(fc.constantFrom(...tags), value, fc.boolean(), (tag, v, replace) => {
      const base = decodeTagValue(VALID[0]);
      assert.ok(base.ok);
      const m = base.msg.clone();
      if (replace && m.has(tag)) m.set(tag, v);
      else m.add(tag, v);
      const r = decodeTagValue(encodeTagValue(m));
      assert.ok(r.ok || r.kind === 'reject', JSON.stringify(r));
      if (tag === 38 && (v === 'NaN' || v.startsWith('-') || v === '0')) assert.ok(!r.ok);
    }),
    { numRuns: RUNS * 2 },
  );
});

test('huge and hostile frames are refused in bounded time', () => {
  const started = process.hrtime.bigint();
  garbled(decodeTagValue('8=FIX.4.4\x019=99999999\x01' + 'x'.repeat(10_000_000)));
  garbled(decodeJson('['.repeat(1_000_000)));
  // a frame at the limit full of fields: validated in one pass
  const many = msg('0', Array.from({ length: 8000 }, (_, i) => `112=${i}`).join('|'));
  const r = decodeTagValue(many, 1 << 20);
  assert.deepEqual(!r.ok && r.kind === 'reject' ? [r.rejection.reason, r.rejection.refTagId] : r, [13, 112]);
  const groups = msg('X', `268=99999|${'279=0|'.repeat(10000)}`);
  const g = decodeTagValue(groups, 1 << 20);
  assert.ok(!g.ok && g.kind === 'reject');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('fan-out encoding (the body once, the header per session) gives exactly the bytes of encoding the whole message', (t) => {
  const skip = new Set([8, 9, 10, 34, 35, 43, 49, 52, 56, 122]);
  const value = fc.string({ unit: 'grapheme', maxLength: 12 });
  assertProperty(t, fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 9999 }), value), { maxLength: 20 }), value, (fields, account) => {
    const body = new FixMessage([[35, 'X'], ...fields.map(([tag, v]) => [tag, v] as [number, string])]);
    const header = new FixMessage([[35, 'X'], [34, '17'], [49, 'MATCHLOG'], [52, '20261122-18:00:00.000'], [56, account]]);
    const whole = header.clone();
    for (const f of body.fields) if (!skip.has(f[0])) whole.fields.push([f[0], f[1]]);
    assert.equal(encodeWithBody(header, encodedBody(body, skip)), encodeTagValue(whole));
    // the cached body serves a second session with another header
    header.set(56, 'other').set(34, '9');
    const whole2 = header.clone();
    for (const f of body.fields) if (!skip.has(f[0])) whole2.fields.push([f[0], f[1]]);
    assert.equal(encodeWithBody(header, encodedBody(body, skip)), encodeTagValue(whole2));
  }), { numRuns: 300 });
});
