/** Record ids in one form, for every comparison the engine makes between them. */

const PLAIN_ID = /^[\x21-\x24\x26-\x7e]+$/;

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The one form of a record id: percent-decoded, Unicode NFC, trimmed. Route parameters, grant
 * requests and record subjects are compared in this form, so `1%30%30%31` and `1001` are one
 * patient everywhere (grant, decision, audit, review).
 */
export function canonicalId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  // Most ids are visible ASCII without '%': nothing to decode, normalize or trim.
  if (PLAIN_ID.test(value)) return value;
  let v = value;
  for (let i = 0; i < 3 && /%[\da-f]{2}/i.test(v); i++) {
    const decoded = safeDecode(v);
    if (decoded === v) break;
    v = decoded;
  }
  v = v.normalize('NFC').trim();
  return v.length === 0 ? undefined : v;
}

