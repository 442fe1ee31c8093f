/** Benchmarks' command-line numbers. */

/** The positive integer after `flag` on the command line, or `fallback`; throws naming the flag otherwise. */
export const positiveIntArg = (flag: string, fallback: number): number => {
  const i = process.argv.indexOf(flag)
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${flag} needs a positive integer`)
  return v
}
