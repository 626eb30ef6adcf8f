// `matchlog verify`: being built (issue 9).

export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('matchlog verify: not built yet\n');
  return 1;
}
