import { systemClock, type Clock } from '../base/clock.js';
import { option, optionsSchema } from '../options.js';
import { randomBytes } from 'node:crypto';
import type { AccessContext } from '../context.js';
import { AuthenticationRequiredError, OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { deliveryEvent, record, type DeliveryAuditSink } from './audit.js';
import { PickupLinkError } from './errors.js';
import { checkKeys, fromBase64url, hmac, safeEqual, secretBytes, type SecretInput } from './util.js';

/** Options of {@link createPickupLinks}. */
export interface PickupLinkOptions {
  /**
   * HMAC secret of at least 32 bytes, or `[current, ...previous]` during a rotation: links are
   * issued with the first and accepted under any of them.
   */
  readonly secret: SecretInput | readonly SecretInput[];
  /** Where link references and used nonces live; share it between instances (Redis). */
  readonly store: StateStore;
  /** Link lifetime. Default 900 (15 minutes); at most 30 days. */
  readonly ttlSeconds?: number;
  /** Receives a `disclose` event on issue and on redemption, and a `deny` event on refusals. */
  readonly audit?: DeliveryAuditSink;
  /** Key prefix in the store. Default `pickup:`. */
  readonly prefix?: string;
  /** The time link lifetimes are measured on. Default: the wall clock. */
  readonly clock?: Clock;
}

/** What a link points at. */
export interface PickupLinkRequest {
  /** Resource type (`lab-result`, `document`). */
  readonly resource: string;
  /** The record's id. Kept in the store, never in the token. */
  readonly resourceId: string;
  /** Who may redeem it (`patient:1001`, a portal account id). Only a keyed hash is in the token. */
  readonly audience: string;
  /** When true, redemption needs an authenticated context (a principal id). Default false. */
  readonly requireAuth?: boolean;
  /** Keyed patient reference (`pt_…`) for the audit trail; never a raw patient id. */
  readonly patientRef?: string;
  /** Lifetime of this link, at most the configured `ttlSeconds`. */
  readonly ttlSeconds?: number;
  /** Who issues the link, for the audit event. */
  readonly context?: AccessContext;
}

/** What redeeming a link gives back: the reference to serve. */
export interface PickupReference {
  readonly resource: string;
  readonly resourceId: string;
  readonly linkId: string;
  readonly patientRef?: string;
  /** Expiry of the link, in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** A link held for one response (see PickupLinks.hold). */
export interface HeldPickup extends PickupReference {
  /** The response was served: the link is spent and its redemption audited. */
  commit(): Promise<void>;
  /** The response was refused: the link can be opened again. */
  abandon(): Promise<void>;
}

/** Single-use, expiring links to a result, safe to put in an SMS or an e-mail. */
export interface PickupLinks {
  /** Issues a link. Resolves `{ token, expiresAt (ms since the epoch), linkId }`. */
  issue(request: PickupLinkRequest): Promise<{ readonly token: string; readonly expiresAt: number; readonly linkId: string }>;
  /**
   * Redeems a link once, across every instance sharing the store. Throws PickupLinkError
   * (`link_invalid` 404, `link_expired` / `link_used` / `link_revoked` 410) or
   * AuthenticationRequiredError (401) for a `requireAuth` link without a principal.
   */
  redeem(token: string, options: { readonly audience: string; readonly context?: AccessContext | null }): Promise<PickupReference>;
  /**
   * Holds a link for one response: the same checks and the same single-use point as `redeem`
   * (a second opener is refused while it is held), but the link is spent — and its redemption
   * audited — only by `commit()`, once the response was served; `abandon()` (the response was
   * refused: a second factor to add, an audit store down) leaves it usable again.
   */
  hold(token: string, options: { readonly audience: string; readonly context?: AccessContext | null }): Promise<HeldPickup>;
  /** Withdraws a link before it is used (a wrong recipient). False when it was unknown, used or expired. */
  revoke(token: string, context?: AccessContext): Promise<boolean>;
}

const MAX_TTL = 30 * 24 * 3600;
const OPTIONS = optionsSchema<PickupLinkOptions>('createPickupLinks', {
  secret: option.required(option.custom('a secret of at least 32 bytes, or [current, ...previous]', ['string', 'bytes', 'array'])),
  store: option.required(option.implementing('a StateStore (MemoryStateStore for one instance, RedisStateStore for several)', 'setIfAbsent', 'get')),
  ttlSeconds: option.integer(1, MAX_TTL),
  audit: option.implementing('an AuditSink ({ write(event) })', 'write'),
  prefix: option.string(),
  clock: option.clock(),
});
const REQUEST_KEYS = ['resource', 'resourceId', 'audience', 'requireAuth', 'patientRef', 'ttlSeconds', 'context'];
const MAX_TOKEN = 512;
const TOKEN = /^v1\.([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/;
const ID = /^[A-Za-z0-9_-]{22}$/;
const HASH = /^[A-Za-z0-9_-]{22}$/;
/** Used markers outlive the link a little, so a redemption racing the expiry still sees them. */
const USED_GRACE_MS = 60_000;

interface Key {
  readonly mac: Buffer;
  readonly audience: Buffer;
}

interface Payload {
  /** Link id: the store key of the reference. */
  readonly l: string;
  /** Expiry, seconds since the epoch. */
  readonly e: number;
  /** Keyed audience hash. */
  readonly a: string;
  /** Nonce consumed on redemption. */
  readonly n: string;
  /** 1 when redemption needs authentication. */
  readonly r?: 1;
}

interface Stored {
  readonly resource: string;
  readonly resourceId: string;
  readonly patientRef?: string;
  readonly audience: string;
}

// Separate keys for the MAC and for audience hashes, both derived from each secret.
function deriveKey(secret: Buffer): Key {
  return { mac: hmac(secret, 'phiguard/pickup-link/v1/mac'), audience: hmac(secret, 'phiguard/pickup-link/v1/audience') };
}

const audienceHash = (key: Key, audience: string) => hmac(key.audience, audience).subarray(0, 16).toString('base64url');
const rand = () => randomBytes(16).toString('base64url');

/**
 * Creates the pickup-link service. Tokens are `v1.<payload>.<mac>` (base64url), the payload
 * `{"l":linkId,"e":expirySeconds,"a":audienceHash,"n":nonce,"r"?:1}` and the MAC an
 * HMAC-SHA256 over `v1.<payload>`: the URL carries no identifier, only random ids and a
 * keyed hash.
 */
export function createPickupLinks(options: PickupLinkOptions): PickupLinks {
  OPTIONS.parse(options);
  /* Precondition: at least one secret, each of at least 32 bytes. */
  const secrets = Array.isArray(options.secret) ? (options.secret as readonly SecretInput[]) : [options.secret as SecretInput];
  if (secrets.length === 0) throw new OptionsError('createPickupLinks: `secret` needs at least one secret ([current, ...previous])');
  const keys = secrets.map((s, i) => deriveKey(secretBytes(s, 'createPickupLinks', `secret[${i}]`)));
  const current = keys[0]!;
  // A state store (the schema requires one), so that single use holds across instances.
  const { store, ttlSeconds = 900, audit, prefix = 'pickup:', clock = systemClock } = options;
  const now = () => clock.now();
  const linkKey = (id: string) => `${prefix}link:${id}`;
  const usedKey = (nonce: string) => `${prefix}used:${nonce}`;

  /** Verifies the MAC under every listed secret (no early exit) and decodes the payload. */
  function open(token: unknown): { payload: Payload; key: Key } | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN) return null;
    const m = TOKEN.exec(token);
    if (!m) return null;
    const mac = fromBase64url(m[2]!);
    if (mac === null || mac.length !== 32) return null;
    let matched: Key | null = null;
    for (const key of keys) {
      if (safeEqual(hmac(key.mac, `v1.${m[1]}`), mac) && matched === null) matched = key;
    }
    if (matched === null) return null;
    let payload: unknown;
    try {
      payload = JSON.parse(fromBase64url(m[1]!)?.toString('utf8') ?? '');
    } catch {
      return null;
    }
    const p = payload as Partial<Payload> | null;
    if (
      p === null || typeof p !== 'object' || typeof p.l !== 'string' || !ID.test(p.l) || typeof p.n !== 'string' || !ID.test(p.n) ||
      typeof p.a !== 'string' || !HASH.test(p.a) || typeof p.e !== 'number' || !Number.isInteger(p.e) || (p.r !== undefined && p.r !== 1)
    ) {
      return null;
    }
    return { payload: p as Payload, key: matched };
  }

  async function deny(reason: string, context: AccessContext | null | undefined, linkId?: string): Promise<void> {
    await record(audit, deliveryEvent(context, 'deny', 'denied', { type: 'pickup-link' }, { kind: 'pickup-link', linkId }, { attemptedAction: 'disclose', reason }));
  }

  /** The checks and the single-use point of redeem and hold; the link is spent by commit(). */
  const take = async (token: string, redeemOptions: { readonly audience: string; readonly context?: AccessContext | null }): Promise<HeldPickup> => {
      const context = redeemOptions?.context ?? null;
      const audience = redeemOptions?.audience;
      if (typeof audience !== 'string' || audience.length === 0) throw new OptionsError('redeem(token, { audience }): `audience` must be the non-empty audience the link was issued to');
      const opened = open(token);
      // Wrong audience looks exactly like a forged token: the caller learns nothing.
      if (opened === null || !safeEqual(Buffer.from(audienceHash(opened.key, audience)), Buffer.from(opened.payload.a))) {
        await deny('link_invalid', context);
        throw new PickupLinkError('link_invalid');
      }
      const { payload } = opened;
      const expiresAt = payload.e * 1000;
      if (now() >= expiresAt) {
        await deny('link_expired', context, payload.l);
        throw new PickupLinkError('link_expired');
      }
      // Checked before the nonce is spent, so signing in and retrying still works.
      if (payload.r === 1 && (typeof context?.principal?.id !== 'string' || context.principal.id.length === 0)) {
        await deny('authentication_required', context, payload.l);
        throw new AuthenticationRequiredError('Authentication required: sign in to open this link.');
      }
      const raw = await store.get(linkKey(payload.l));
      if (raw === null) {
        const used = (await store.get(usedKey(payload.n))) !== null;
        await deny(used ? 'link_used' : 'link_revoked', context, payload.l);
        throw new PickupLinkError(used ? 'link_used' : 'link_revoked');
      }
      let stored: Stored;
      try {
        stored = JSON.parse(raw) as Stored;
      } catch {
        stored = { resource: '', resourceId: '', audience: '' };
      }
      // The reference must be the one this token was issued for (defence in depth over the MAC).
      if (stored.audience !== payload.a) {
        await deny('link_invalid', context, payload.l);
        throw new PickupLinkError('link_invalid');
      }
      // The single-use point: one SET NX wins on every instance sharing the store.
      const first = await store.setIfAbsent(usedKey(payload.n), String(now()), Math.max(1, expiresAt - now()) + USED_GRACE_MS);
      if (!first) {
        await deny('link_used', context, payload.l);
        throw new PickupLinkError('link_used');
      }
      const ref: PickupReference = { resource: stored.resource, resourceId: stored.resourceId, linkId: payload.l, expiresAt, ...(stored.patientRef === undefined ? {} : { patientRef: stored.patientRef }) };
      let settled = false;
      return {
        ...ref,
        async commit() {
          if (settled) return;
          settled = true;
          await store.delete(linkKey(payload.l)).catch(() => false);
          await record(
            audit,
            deliveryEvent(context, 'disclose', 'success', { type: stored.resource }, { kind: 'pickup-link', linkId: payload.l, audienceRef: payload.a, expiresAt: new Date(expiresAt).toISOString() }, { reason: 'pickup-link-redeemed', patientRef: stored.patientRef }),
          );
        },
        async abandon() {
          if (settled) return;
          settled = true;
          await store.delete(usedKey(payload.n)).catch(() => false);
        },
      };
  };

  return {
    async issue(request) {
      checkKeys(request, REQUEST_KEYS, 'issue');
      const { resource, resourceId, audience, requireAuth = false, patientRef } = request;
      for (const [name, value] of [['resource', resource], ['resourceId', resourceId], ['audience', audience]] as const) {
        if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new OptionsError(`issue: \`${name}\` must be a non-empty string of at most 256 characters`);
      }
      if (patientRef !== undefined && (typeof patientRef !== 'string' || patientRef.length > 128)) throw new OptionsError('issue: `patientRef` must be a keyed patient reference string');
      const ttl = request.ttlSeconds ?? ttlSeconds;
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > ttlSeconds) throw new OptionsError(`issue: ttlSeconds must be an integer from 1 to ${ttlSeconds}`);
      const linkId = rand();
      const expiresAt = (Math.floor(now() / 1000) + ttl) * 1000;
      const audienceRef = audienceHash(current, audience);
      const payload: Payload = requireAuth === true ? { l: linkId, e: expiresAt / 1000, a: audienceRef, n: rand(), r: 1 } : { l: linkId, e: expiresAt / 1000, a: audienceRef, n: rand() };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      const token = `v1.${body}.${hmac(current.mac, `v1.${body}`).toString('base64url')}`;
      const stored: Stored = { resource, resourceId, audience: audienceRef, ...(patientRef === undefined ? {} : { patientRef }) };
      await store.set(linkKey(linkId), JSON.stringify(stored), ttl * 1000);
      try {
        await record(
          audit,
          deliveryEvent(request.context, 'disclose', 'success', { type: resource }, { kind: 'pickup-link', linkId, audienceRef, expiresAt: new Date(expiresAt).toISOString() }, { reason: 'pickup-link-issued', patientRef }),
        );
      } catch (err) {
        // Without its audit record the link must not exist.
        await store.delete(linkKey(linkId)).catch(() => false);
        throw err;
      }
      return { token, expiresAt, linkId };
    },

    async redeem(token, redeemOptions) {
      const held = await take(token, redeemOptions);
      await held.commit();
      const { commit: _c, abandon: _a, ...ref } = held;
      return ref;
    },

    hold(token, holdOptions) {
      return take(token, holdOptions);
    },

    async revoke(token, context) {
      const opened = open(token);
      if (opened === null) return false;
      const removed = await store.delete(linkKey(opened.payload.l));
      if (removed) {
        await record(audit, deliveryEvent(context, 'delete', 'success', { type: 'pickup-link' }, { kind: 'pickup-link', linkId: opened.payload.l }, { reason: 'pickup-link-revoked' }));
      }
      return removed;
    },
  };
}
