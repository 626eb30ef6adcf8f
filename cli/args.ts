// Option parsing shared by the matchlog commands: a bad option prints the
// reason and the usage (exit 2), --help prints the usage (exit 0).

import { parseArgs } from 'node:util';

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
type Value<T extends { type: 'string' | 'boolean'; multiple?: boolean }> =
  T['multiple'] extends true ? (T['type'] extends 'string' ? string[] : boolean[]) : (T['type'] extends 'string' ? string : boolean);
type Values<O extends Options> = { [K in keyof O]?: Value<O[K]> } & { _: string[] };

/**
 * The parsed option values (positional arguments in `_`; only when
 * `positionals` allows that many), or the exit code to return when there is
 * nothing to run.
 */
export function parseOptions<O extends Options>(command: string, usage: string, argv: string[], options: O, positionals = 0): Values<O> | number {
  let values: Record<string, unknown>;
  let rest: string[];
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, allowPositionals: positionals > 0 });
    values = parsed.values as Record<string, unknown>;
    rest = parsed.positionals;
  } catch (e) {
    process.stderr.write(`matchlog ${command}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  if (rest.length > positionals) {
    process.stderr.write(`matchlog ${command}: unexpected argument '${rest[positionals]}'\n${usage}`);
    return 2;
  }
  return { ...values, _: rest } as Values<O>;
}
