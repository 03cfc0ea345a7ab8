// What `npm run train` and `npm run bench` share on the command line: flag values checked with an error that names
// the flag, what it expects and what it got; usage on stderr and exit code 2 after a bad flag, on stdout after --help.

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `value` as an integer in [min, max], or a UsageError naming `flag`. */
export function integerFlag(flag: string, value: string | undefined, min: number, max = Infinity): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} expects an integer ${max < Infinity ? `from ${min} to ${max}` : `>= ${min}`}, got ${value ?? 'nothing'}`);
  }
  return n;
}

/** `value` when it is there and not the next flag, or a UsageError saying `flag` expects `what`. */
export function textFlag(flag: string, value: string | undefined, what: string): string {
  if (!value || value.startsWith('--')) throw new UsageError(`${flag} expects ${what}, got ${value ?? 'nothing'}`);
  return value;
}

/**
 * The parsed arguments, or the exit code when there is nothing to run: 0 after --help (usage printed), 2 after a
 * bad flag (`name: message` and the usage on stderr).
 */
export function commandLine<A>(name: string, usage: string, parse: (argv: string[]) => A | 'help', argv: string[]): A | number {
  let args: A | 'help';
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${name}: ${error.message}\n${usage}`);
    return 2;
  }
  if (args === 'help') {
    console.log(usage);
    return 0;
  }
  return args;
}
