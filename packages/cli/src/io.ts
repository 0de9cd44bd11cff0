import { parseArgs, type ParseArgsConfig } from 'node:util';
/** Where a command writes; injectable so commands are testable without a process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Exit codes: 0 success, 1 the check failed (a broken chain), 2 usage error or unreadable input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One subcommand: its usage line, summary, and implementation returning an exit code. */
export interface Command {
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Parses a command's arguments (positionals allowed); a parse error is a usage error. */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>> {
  try {
    return parseArgs({ args: [...args], allowPositionals: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
