// Option parsing shared by the matchlog commands: a bad option prints the
// reason and the usage (exit 2), --help prints the usage (exit 0).

import { parseArgs } from 'node:util';

type Options = Record<string, { type: 'string' | 'boolean' }>;
type Values<O extends Options> = { [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean };

/** The parsed option values, or the exit code to return when there is nothing to run. */
export function parseOptions<O extends Options>(command: string, usage: string, argv: string[], options: O): Values<O> | number {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } } }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    process.stderr.write(`matchlog ${command}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return values as Values<O>;
}
