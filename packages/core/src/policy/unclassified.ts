/**
 * What the development warning says about fields a policy does not classify, and how
 * `phiguard policy check` reads it back. One place, so the advice can never drift into
 * something that leaks: the fix for an unclassified path is to declare it with its class; the
 * fix for an ORM wrapper path is never to declare it (classifying `[].dataValues` as non-phi
 * would send every column of the row to every role) but to return plain rows.
 */
import { ELEMENT, parsePath } from './path.js';

/**
 * Own keys of ORM instances that wrap a row rather than being one of its columns: Sequelize
 * models (`dataValues`, `_previousDataValues`, …) and Mongoose documents (`_doc`, `$__`, …).
 */
export const ORM_WRAPPER_KEYS: ReadonlySet<string> = new Set([
  'dataValues',
  '_previousDataValues',
  '_changed',
  '_options',
  'isNewRecord',
  'uniqno',
  '_doc',
  '$__',
  '$isNew',
  '$locals',
  '$op',
  '$errors',
]);

/** Whether a field path goes through an ORM instance's wrapper rather than the row's columns. */
export function isOrmWrapperPath(path: string): boolean {
  const segments = parsePath(path);
  return typeof segments !== 'string' && segments.some((s) => s !== ELEMENT && ORM_WRAPPER_KEYS.has(s));
}

const LIST = 'fields, not sent (deny by default): ';
const END = '. ';

/**
 * The warning for a value's unclassified paths (paths only, never values). Wrapper paths get
 * their own advice: return plain rows, never classify the wrapper.
 */
export function unclassifiedWarning(resource: string, paths: readonly string[]): string {
  const wrappers = paths.filter(isOrmWrapperPath);
  const plain = paths.filter((p) => !isOrmWrapperPath(p));
  const parts: string[] = [];
  if (plain.length > 0) {
    parts.push(
      `phiguard: ${resource} has unclassified ${LIST}${plain.join(', ')}${END}` +
        'Declare each in the policy with its class; `non-phi` only for values that never identify a patient (codes, statuses, counts).',
    );
  }
  if (wrappers.length > 0) {
    parts.push(
      `phiguard: ${resource} has ORM wrapper ${LIST}${wrappers.join(', ')}${END}` +
        'These are an ORM instance (Sequelize model, Mongoose document), not the row: do not classify them, since they hold every column. ' +
        'Return plain objects instead (Sequelize `raw: true` or `instance.get({ plain: true })`, Mongoose `.lean()` or `doc.toObject()`) and classify their columns.',
    );
  }
  return parts.join('\n');
}

/** The paths a warning from {@link unclassifiedWarning} lists (empty for any other message). */
export function unclassifiedPaths(message: string): string[] {
  const out: string[] = [];
  for (const line of message.split('\n')) {
    const at = line.indexOf(LIST);
    if (!line.startsWith('phiguard: ') || at < 0) continue;
    const end = line.indexOf(END, at);
    out.push(...line.slice(at + LIST.length, end < 0 ? undefined : end).split(', ').filter(Boolean));
  }
  return out;
}
