// jspurefix as an independent FIX 4.4 parser and dictionary for the tests:
// its copy of QuickFIX's FIX44.xml plus exactly matchlog's documented
// extensions (gateway/fix/dictionary.ts EXTENSIONS), loaded once.

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jspurefix from 'jspurefix';

const require = createRequire(import.meta.url);

export type JsDefs = Awaited<ReturnType<InstanceType<typeof jspurefix.DefinitionFactory>['getDefinitions']>>;

/** A copy of QuickFIX's dictionary of `version` as jspurefix ships it. */
export function fixXml(version: 'FIX44' | 'FIX50SP2'): string {
  return readFileSync(join(require.resolve('jspurefix/package.json'), '..', 'data', `${version}.xml`), 'utf8');
}

let plain44: Promise<JsDefs> | undefined;
/** jspurefix's FIX 4.4 dictionary as it is, loaded once: what the gateway's dictionary is checked against. */
export function fix44(): Promise<JsDefs> {
  plain44 ??= new jspurefix.DefinitionFactory().getDefinitions(join(require.resolve('jspurefix/package.json'), '..', 'data', 'FIX44.xml'));
  return plain44;
}

let patched44: Promise<JsDefs> | undefined;
/** jspurefix's FIX 4.4 dictionary plus exactly our EXTENSIONS, loaded once: the parser frames are checked with. */
export function reference(): Promise<JsDefs> {
  patched44 ??= (async () => {
    let xml = fixXml('FIX44');
    const insertBefore = (text: string, after: string, marker: string, insert: string): string => {
      const from = text.indexOf(after);
      assert.ok(from >= 0, after);
      const at = text.indexOf(marker, from);
      return text.slice(0, at) + insert + text.slice(at);
    };
    xml = insertBefore(xml, '<fields>', '</fields>', "<field number='7928' name='SelfTradePrevention' type='INT' />\n");
    xml = insertBefore(xml, "<message name='NewOrderSingle'", '</message>', "<field name='SelfTradePrevention' required='N' />\n");
    xml = insertBefore(xml, "<message name='OrderCancelReplaceRequest'", '</message>', "<field name='SelfTradePrevention' required='N' />\n");
    xml = insertBefore(xml, "<component name='MDIncGrp'>", '</group>', "<field name='RptSeq' required='N' />\n");
    // FIX 5.0 SP2's AggressorSide on X trade entries, after RptSeq
    xml = insertBefore(xml, '<fields>', '</fields>', "<field number='2446' name='AggressorSide' type='CHAR' />\n");
    xml = insertBefore(xml, "<component name='MDIncGrp'>", '</group>', "<field name='AggressorSide' required='N' />\n");
    // FIX 5.0's MinPriceIncrement and MaxTradeVol in SecurityList's NoRelatedSym, after MinTradeVol
    xml = insertBefore(xml, '<fields>', '</fields>', "<field number='969' name='MinPriceIncrement' type='FLOAT' />\n");
    xml = insertBefore(xml, '<fields>', '</fields>', "<field number='1140' name='MaxTradeVol' type='QTY' />\n");
    xml = insertBefore(xml, "<component name='SecListGrp'>", "<field name='TradingSessionID'",
      "<field name='MinPriceIncrement' required='N' />\n<field name='MaxTradeVol' required='N' />\n");
    const path = join(mkdtempSync(join(tmpdir(), 'matchlog-fix44-')), 'FIX44-matchlog.xml');
    writeFileSync(path, xml);
    return new jspurefix.DefinitionFactory().getDefinitions(path);
  })();
  return patched44;
}


export interface JsView {
  missing(): number[];
  invalid(): number[];
  getUndefined(): unknown;
  checksum(): number;
  getString(tag: number): string | null;
  getStrings(tag: number): (string | null)[] | null;
  structure: { tags: { nextTagPos: number; tagPos: { tag: number }[] } } | null;
}

export async function jsParse(text: string): Promise<{ msgType: string; view: JsView }[]> {
  const defs = await reference();
  const { container } = require('tsyringe') as { container: { createChildContainer(): { registerInstance(token: string, v: unknown): void } } };
  const child = container.createChildContainer();
  const buffer = new jspurefix.ElasticBuffer(160 * 1024);
  child.registerInstance(jspurefix.DITokens.Definitions, defs);
  child.registerInstance(jspurefix.DITokens.ParseBuffer, buffer);
  const description = { application: { protocol: 'ascii' }, BeginString: 'FIX.4.4' };
  const config = new jspurefix.JsFixConfig(null, defs, description as never, 1);
  (config as unknown as { sessionContainer: unknown }).sessionContainer = child;
  const parser = new jspurefix.AsciiParser(config, null, buffer);
  const out: { msgType: string; view: JsView }[] = [];
  const errors: unknown[] = [];
  parser.on('msg', (msgType: string, view: { clone(): JsView }) => out.push({ msgType, view: view.clone() }));
  parser.on('error', (e: unknown) => errors.push(e));
  parser.parseText(text);
  assert.deepEqual(errors, []);
  return out;
}

