// The exchange in a child process, for the crash tests: commands arrive on
// stdin as `<id>\t<json>` lines; once durable each is answered on stdout as
// `A <id> <seq>`, refusals as `E <id> <code>`. After recovery it prints
// `R <seq> <hash>`. The parent kills it with SIGKILL at a random moment.

import { createInterface } from 'node:readline';
import { Exchange, type LogConfig } from '../log/index.js';

const [dir, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson) as Partial<LogConfig>;
const ex = await Exchange.open({ dataDir: dir, config, log: (l) => process.stderr.write(`child: ${l}\n`) });

let out = '';
let flushing = false;
function emit(line: string): void {
  out += line;
  if (!flushing) {
    flushing = true;
    setImmediate(() => {
      flushing = false;
      process.stdout.write(out);
      out = '';
    });
  }
}

process.stdout.write(`R ${ex.seq} ${ex.engine.stateHash()}\n`);
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  const tab = line.indexOf('\t');
  const id = line.slice(0, tab);
  ex.submit(JSON.parse(line.slice(tab + 1)), 'crash').then(
    (ack) => emit(`A ${id} ${ack.seq}\n`),
    (err: { code?: string }) => emit(`E ${id} ${err.code ?? 'ERR'}\n`),
  );
});
lines.on('close', () => {
  void ex.close().then(() => process.exit(0));
});
