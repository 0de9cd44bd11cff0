/**
 * The response gate: holds every byte and header of a Node HTTP response (node:http
 * ServerResponse, and the Express/Nest responses built on it) until the exchange has released
 * it. Whatever API wrote the body — `res.json`, `res.send`, `res.end` after `res.writeHead`,
 * `res.write` streaming, `flushHeaders`, `sendFile`, a stream piped in — and whatever middleware
 * wraps the response (compression, on-headers), the body leaves only as the plan projected it,
 * with headers scrubbed of identifiers; what phiguard cannot read (non-JSON bytes) leaves only
 * where the resource allows raw bodies.
 *
 * The gate wraps the methods on the response instance. `raise()` re-wraps it outermost when
 * middleware installed after it wrapped the same methods (compression does): the older layer
 * then only passes through.
 */
import { scrubHeaders } from '../dlp/headers.js';
import type { Answer } from './http.js';
import type { Exchange, Maybe, Step } from './exchange.js';

/** The parts of a Node response the gate uses (node:http ServerResponse, Express, Nest on Express). */
export interface GatedResponse {
  statusCode: number;
  statusMessage?: string;
  readonly headersSent: boolean;
  writeHead(...args: any[]): unknown;
  write(...args: any[]): boolean;
  end(...args: any[]): unknown;
  flushHeaders?(...args: any[]): unknown;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  getHeader(name: string): unknown;
  removeHeader(name: string): unknown;
  getHeaderNames(): string[];
  destroy(error?: Error): unknown;
  /** Express's res.json, when present: objects are projected without a serialize/parse round trip. */
  json?(body: unknown): unknown;
}

/** What the gate asks the adapter. */
export interface GateHooks {
  /**
   * Decides a claimed request that reached its response undecided (no route dispatch was seen,
   * or an outer interceptor answered from a cache): resolves the context from the request.
   */
  decide(): Maybe<Step>;
}

export interface ResponseGate {
  /** Re-wraps the response outermost, if middleware wrapped its methods since. */
  raise(): void;
  /** The next `res.json(value)` with this exact value was released already (with these headers): it passes. */
  vouch(value: unknown, headers: Readonly<Record<string, string>>): void;
  /** The body was released as raw (audited): the handler's writes pass from now on. */
  openRaw(): void;
  /** Answers in the handler's place (a refusal, an error): drops what was buffered. */
  answer(answer: Answer): void;
  /** True once a body or an answer went out, or is being released (the handler wrote the response itself). */
  readonly handled: boolean;
}

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders', 'json'] as const;
type Method = (typeof METHODS)[number];
type Fn = (...args: any[]) => any;

/** Headers that describe a body phiguard replaces: dropped when it answers or re-serializes. */
const BODY_HEADERS = ['content-length', 'etag', 'content-range', 'content-md5', 'last-modified'];
const ANSWER_DROPS = [...BODY_HEADERS, 'content-disposition', 'location', 'content-encoding', 'content-language', 'refresh', 'link'];
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json(?:\s*;|\s*$)/i;
const NO_BODY = new Set([204, 304]);

interface Layer {
  readonly inner: Partial<Record<Method, Fn>>;
  readonly outer: Partial<Record<Method, Fn>>;
}

/** Installs the gate on a response for one exchange. */
export function guardResponse(res: GatedResponse, exchange: Exchange, hooks: GateHooks): ResponseGate {
  // A body is buffered only up to what the plan could project (maxChars of UTF-8).
  const maxBytes = exchange.host.guard.policy.limits.maxChars * 4 + 65_536;
  const layers: Layer[] = [];
  let active = -1;
  /** >0 while phiguard itself calls down the chain: those calls pass. */
  let passing = 0;
  /** Set once the body (or an answer) went down the chain: later calls come from inner layers. */
  let sealed = false;
  let rawOpen = false;
  let vouched: unknown = NONE;
  let vouchedHeaders: Readonly<Record<string, string>> = {};
  let chunks: Buffer[] = [];
  let size = 0;
  let endCallback: Fn | undefined;
  let settling = false;

  const isPhi = () => exchange.kind !== 'non-phi';
  const top = () => layers[active]!.inner;

  const down = <T>(fn: () => T): T => {
    passing++;
    try {
      return fn();
    } finally {
      passing--;
    }
  };

  /** Headers go out once, scrubbed of identifiers; a custom reason phrase is dropped (it may name someone). */
  const commitHeaders = (): void => {
    for (const [k, v] of Object.entries(exchange.headers)) res.setHeader(k, v);
    const { scanner } = exchange.host.guard;
    scrubHeaders(res, scanner);
    const cookies = res.getHeader('set-cookie');
    if (cookies !== undefined) res.setHeader('Set-Cookie', (Array.isArray(cookies) ? cookies : [cookies]).map((c) => scrubCookie(String(c), scanner)));
    res.statusMessage = undefined as unknown as string;
  };

  const answer = (a: Answer): void => {
    exchange.markRefused();
    chunks = [];
    size = 0;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const h of ANSWER_DROPS) res.removeHeader(h);
    for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
    res.statusCode = a.status;
    commitHeaders();
    sealed = true;
    const text = JSON.stringify(a.body);
    down(() => top().end!.call(res, text, 'utf8', endCallback));
  };

  /** The exchange's answer, sync or async, applied; `then` runs when it let the body through. */
  const settle = <T>(step: Maybe<T | Answer>, then: (value: T) => void): void => {
    const apply = (v: T | Answer) => {
      if (isAnswer(v)) answer(v);
      else then(v);
    };
    if (isPromise<T | Answer>(step)) {
      settling = true;
      step.then(
        (v) => {
          settling = false;
          apply(v);
        },
        (err: unknown) => {
          settling = false;
          answer(exchange.fail(err));
        },
      );
    } else apply(step);
  };

  /** Runs `then` once the request is decided (late decision when no route dispatch was seen). */
  const decided = (then: () => void): void => {
    if (exchange.kind !== 'phi' || exchange.decided) return then();
    settle<null>(hooks.decide() as Maybe<null | Answer>, () => {
      // The handler already read the body: DLP that should have run before it cannot run now.
      if (exchange.needsInspection()) return answer(exchange.fail(Object.assign(new Error('request body not inspected'), { status: 415 })));
      then();
    });
  };

  const releaseValue = (value: unknown, viaJson: boolean): void => {
    const status = res.statusCode;
    if (status >= 400) return answer(exchange.answerError(status, value));
    decided(() =>
      settle(exchange.release(value), (released) => {
        for (const [k, v] of Object.entries(released.headers)) res.setHeader(k, v);
        for (const h of BODY_HEADERS) res.removeHeader(h);
        commitHeaders();
        sealed = true;
        const inner = top();
        if (viaJson && inner.json !== undefined) {
          down(() => inner.json!.call(res, released.body));
        } else {
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          const text = JSON.stringify(released.body === undefined ? null : released.body);
          down(() => inner.end!.call(res, text, 'utf8', endCallback));
        }
      }),
    );
  };

  const finishBody = (): void => {
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    chunks = [];
    const status = res.statusCode;
    if (status >= 400) {
      const parsed = parseJson(bytes, res);
      return answer(exchange.answerError(status, parsed === NONE ? undefined : parsed));
    }
    if (bytes.length === 0 || NO_BODY.has(status) || (status >= 300 && status < 400)) {
      // No body (204, 304, HEAD), or a redirect's generated text that repeats its Location: only
      // the headers leave, scrubbed.
      return decided(() => {
        for (const h of BODY_HEADERS) res.removeHeader(h);
        commitHeaders();
        sealed = true;
        down(() => top().end!.call(res, undefined, undefined, endCallback));
      });
    }
    if (exchange.kind === 'unmapped') return answer(exchange.refuseUnmapped());
    const parsed = parseJson(bytes, res);
    if (parsed !== NONE) return releaseValue(parsed, false);
    decided(() =>
      settle<null>(exchange.releaseRaw(), () => {
        if (exchange.kind === 'phi') res.setHeader('Cache-Control', 'no-store');
        commitHeaders();
        sealed = true;
        down(() => top().end!.call(res, bytes, undefined, endCallback));
      }),
    );
  };

  const buffer = (chunk: unknown, encoding: unknown): boolean => {
    if (chunk === undefined || chunk === null) return true;
    const b = Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    size += b.length;
    if (size > maxBytes) {
      // Fail closed: a body too large to project is refused whole, never sent in part.
      answer(exchange.fail(Object.assign(new Error('response body over maxBytes'), { status: 500 })));
      return false;
    }
    chunks.push(Buffer.from(b));
    return true;
  };

  /** Whether a call on layer `i` goes straight down: not the active layer, phiguard's own call, or after the body. */
  const through = (i: number): boolean => i !== active || passing > 0 || sealed || !isPhi();

  const wrappers = (i: number): Partial<Record<Method, Fn>> => {
    const layer = () => layers[i]!.inner;
    const w: Partial<Record<Method, Fn>> = {
      writeHead(this: GatedResponse, status: number, ...rest: unknown[]) {
        if (through(i) || rawOpen) return layer().writeHead!.call(res, status, ...rest);
        if (exchange.refused) return res;
        // Deferred: headers leave with the released body. Status and headers are kept on the response.
        if (typeof status === 'number') res.statusCode = status;
        const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
        if (Array.isArray(headers)) {
          for (let k = 0; k + 1 < headers.length; k += 2) res.setHeader(String(headers[k]), headers[k + 1] as string);
        } else if (headers !== null && typeof headers === 'object') {
          for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v as string);
        }
        return res;
      },
      flushHeaders(this: GatedResponse, ...args: unknown[]) {
        if (through(i) || rawOpen) return layer().flushHeaders?.call(res, ...args);
        return undefined; // headers leave with the released body
      },
      write(this: GatedResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
        if (through(i) || rawOpen) return layer().write!.call(res, chunk, encoding, cb);
        if (exchange.refused) return false;
        const callback = typeof encoding === 'function' ? encoding : cb;
        const ok = buffer(chunk, typeof encoding === 'function' ? undefined : encoding);
        if (typeof callback === 'function') process.nextTick(callback as Fn);
        return ok;
      },
      end(this: GatedResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
        if (through(i) || rawOpen) return layer().end!.call(res, chunk, encoding, cb);
        if (exchange.refused || settling) return res;
        if (typeof chunk === 'function') endCallback = chunk as Fn;
        else {
          if (typeof encoding === 'function') endCallback = encoding as Fn;
          else if (typeof cb === 'function') endCallback = cb as Fn;
          if (!buffer(chunk, typeof encoding === 'function' ? undefined : encoding)) return res;
        }
        finishBody();
        return res;
      },
    };
    if (typeof layers[i]!.inner.json === 'function') {
      w.json = function json(this: GatedResponse, body: unknown) {
        if (through(i) || rawOpen) return layer().json!.call(res, body);
        if (exchange.refused || settling) return res;
        if (body === vouched) {
          vouched = NONE;
          for (const [k, v] of Object.entries(vouchedHeaders)) res.setHeader(k, v);
          commitHeaders();
          sealed = true;
          return down(() => layer().json!.call(res, body));
        }
        releaseValue(body, true);
        return res;
      };
    }
    return w;
  };

  const install = (): void => {
    const inner: Partial<Record<Method, Fn>> = {};
    for (const m of METHODS) {
      const f = (res as unknown as Record<string, unknown>)[m];
      if (typeof f === 'function') inner[m] = f as Fn;
    }
    const index = layers.length;
    layers.push({ inner, outer: {} });
    const outer = wrappers(index);
    (layers[index] as { outer: Partial<Record<Method, Fn>> }).outer = outer;
    for (const m of METHODS) if (outer[m] !== undefined) (res as unknown as Record<string, unknown>)[m] = outer[m];
    active = index;
  };

  install();
  return {
    raise() {
      if (sealed) return;
      const outer = layers[active]!.outer;
      const moved = METHODS.some((m) => outer[m] !== undefined && (res as unknown as Record<string, unknown>)[m] !== outer[m]);
      if (moved) install();
    },
    vouch(value, headers) {
      vouched = value;
      vouchedHeaders = headers;
    },
    openRaw() {
      if (rawOpen) return;
      rawOpen = true;
      if (exchange.kind === 'phi') res.setHeader('Cache-Control', 'no-store');
      commitHeaders();
    },
    answer,
    get handled() {
      return sealed || settling || rawOpen || exchange.refused || chunks.length > 0;
    },
  };
}

const NONE: unique symbol = Symbol('none');

/** A Set-Cookie value whose (percent-decoded) value carries an identifier gets the redacted value instead. */
function scrubCookie(cookie: string, scanner: { scan(text: string): readonly unknown[]; redact(text: string): string }): string {
  const semi = cookie.indexOf(';');
  const pair = semi === -1 ? cookie : cookie.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq === -1) return cookie;
  let value = pair.slice(eq + 1);
  try {
    value = decodeURIComponent(value);
  } catch {
    /* scanned as it is */
  }
  if (scanner.scan(value).length === 0) return cookie;
  return `${pair.slice(0, eq)}=${encodeURIComponent(scanner.redact(value))}${semi === -1 ? '' : cookie.slice(semi)}`;
}

/** An Answer has a status; a Released value does not. */
function isAnswer(v: unknown): v is Answer {
  return v !== null && typeof v === 'object' && typeof (v as Answer).status === 'number' && 'body' in v && 'headers' in v;
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<T>).then === 'function';
}

/** Bytes as a JSON value when they are JSON (by type, or by shape when no type was set); NONE otherwise. */
function parseJson(bytes: Buffer, res: GatedResponse): unknown {
  const type = res.getHeader('content-type');
  const declared = typeof type === 'string' ? type : '';
  if (declared !== '' && !JSON_TYPE.test(declared)) return NONE;
  const first = bytes.length > 0 ? bytes[0] : undefined;
  if (declared === '' && first !== 0x7b && first !== 0x5b) return NONE;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return NONE;
  }
}
