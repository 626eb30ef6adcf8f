// `matchlog gen`: being built (issue 9).

export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('matchlog gen: not built yet\n');
  return 1;
}
