/**
 * The `phiguard` command line. Commands live in a two-level table (`phiguard <group> <command>`),
 * so `phiguard scan …` or `phiguard policy …` are one entry each.
 */
import { auditVerify } from './audit.js';
import { policyCheck, policyReport } from './policy.js';
import { scan } from './scan.js';
import { EXIT, UsageError, type CliIo, type Command } from './io.js';

export type { CliIo, Command } from './io.js';
export { EXIT, UsageError } from './io.js';

/** Command groups and their commands. */
export const COMMANDS: Readonly<Record<string, Readonly<Record<string, Command>>>> = {
  audit: { verify: auditVerify },
  policy: { check: policyCheck, report: policyReport },
  scan: { '': scan },
};

function help(): string {
  const lines = ['Usage: phiguard <command> [options]', '', 'Commands:'];
  for (const group of Object.values(COMMANDS)) {
    for (const cmd of Object.values(group)) lines.push(`  ${cmd.usage}`, `      ${cmd.summary}`);
  }
  return lines.join('\n') + '\n';
}

const defaultIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
};

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const [groupName, ...tail] = argv;
  // A group with an unnamed command (`phiguard scan <paths>`) takes everything after the group.
  const direct = groupName !== undefined && Object.hasOwn(COMMANDS, groupName) && Object.hasOwn(COMMANDS[groupName]!, '');
  const commandName = direct ? '' : tail[0];
  const rest = direct ? tail : tail.slice(1);
  if (groupName === undefined || groupName === '--help' || groupName === '-h' || groupName === 'help') {
    (groupName === undefined ? io.err : io.out)(help());
    return groupName === undefined ? EXIT.usage : EXIT.ok;
  }
  const group = Object.hasOwn(COMMANDS, groupName) ? COMMANDS[groupName] : undefined;
  const command = group !== undefined && commandName !== undefined && Object.hasOwn(group, commandName) ? group[commandName] : undefined;
  if (command === undefined) {
    io.err(`phiguard: unknown command "${[groupName, commandName].filter((x) => x !== undefined).join(' ')}"\n\n${help()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: ${command.usage}\n  ${command.summary}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`phiguard: ${err.message}\nUsage: ${command.usage}\n`);
      return EXIT.usage;
    }
    io.err(`phiguard: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}
