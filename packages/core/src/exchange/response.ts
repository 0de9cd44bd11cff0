/**
 * The response gate: holds every byte and header of a Node HTTP response (node:http
 * ServerResponse, and the Express/Nest responses built on it) until the exchange has released
 * it. Whatever API wrote the body — `res.json`, `res.send`, `res.end` after `res.writeHead`,
 * `res.write` streaming, `flushHeaders`, `sendFile`, a stream piped in — and whatever middleware
 * wraps the response (compression, on-headers), the body leaves only as the plan projected it,
 * with headers scrubbed of identifiers; what phiguard cannot read (non-JSON bytes) leaves only
 * where the resource allows raw bodies.
 *
 * The gate wraps the methods once on the response prototype (the one that defines Express's
 * `json`, else the response's own prototype) and keeps per-response state in a WeakMap: adding
 * properties to a response Express re-parented costs microseconds each. When middleware wraps
 * the methods on the response itself (compression, on-headers), `raise()` wraps them again on the
 * instance, outermost, and the prototype layer then only passes through for that response.
 */
import { scrubHeaders } from '../dlp/headers.js';
import { JSON_TYPE, isAnswer, type Answer } from './http.js';
import type { Exchange, Maybe, Step } from './exchange.js';

/** The parts of a Node response the gate uses (node:http ServerResponse, Express, Nest on Express). */
export interface GatedResponse {
  statusCode: number;
  statusMessage?: string;
  readonly headersSent: boolean;
  /** True once Node's end ran (node:http sets it). */
  readonly writableEnded?: boolean;
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
  /**
   * Called once the response's last byte went down to Node: the adapter drops its own per-request
   * state. Nothing of the exchange stays reachable from the response after it, so a response that
   * lingers (keep-alive, a slow socket) does not carry the request's objects into the old generation.
   */
  done?(): void;
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
type Methods = Partial<Record<Method, Fn>>;

/** Headers that describe a body phiguard replaces: dropped when it answers or re-serializes. */
const BODY_HEADERS = ['content-length', 'etag', 'content-range', 'content-md5', 'last-modified'];
const ANSWER_DROPS = [...BODY_HEADERS, 'content-disposition', 'location', 'content-encoding', 'content-language', 'refresh', 'link'];
const NO_BODY = new Set([204, 304]);

const gates = new WeakMap<object, Gate>();
/** Prototype → the methods it had before phiguard wrapped it. */
const wrappedProtos = new WeakMap<object, Methods>();

/** Installs the gate on a response for one exchange. */
export function guardResponse(res: GatedResponse, exchange: Exchange, hooks: GateHooks): ResponseGate {
  const gate = new Gate(res, exchange, hooks, protoLayer(res));
  gates.set(res, gate);
  return gate;
}

/** Wraps the response's prototype once; returns the methods below the wrappers. */
function protoLayer(res: GatedResponse): Methods {
  let target: object | null = Object.getPrototypeOf(res) as object | null;
  for (let p = target; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, 'json')) {
      target = p;
      break;
    }
  }
  if (target === null) target = Object.getPrototypeOf(res) as object;
  const known = wrappedProtos.get(target);
  if (known !== undefined) return known;
  const originals: Methods = {};
  for (const m of METHODS) {
    const f = (target as Record<string, unknown>)[m];
    if (typeof f === 'function') originals[m] = f as Fn;
  }
  wrappedProtos.set(target, originals);
  const define = (m: Method, value: Fn) => Object.defineProperty(target, m, { value, writable: true, configurable: true, enumerable: false });
  const original = (m: Method) => originals[m]!;
  // Named functions: stack traces and `res.end.name` read as Node's.
  if (originals.writeHead) define('writeHead', function writeHead(this: object, ...a: unknown[]) { const g = gates.get(this); return g === undefined ? original('writeHead').apply(this, a) : g.writeHead(0, a); });
  if (originals.write) define('write', function write(this: object, ...a: unknown[]) { const g = gates.get(this); return g === undefined ? original('write').apply(this, a) : g.write(0, a); });
  if (originals.end) define('end', function end(this: object, ...a: unknown[]) { const g = gates.get(this); return g === undefined ? original('end').apply(this, a) : g.end(0, a); });
  if (originals.flushHeaders) define('flushHeaders', function flushHeaders(this: object, ...a: unknown[]) { const g = gates.get(this); return g === undefined ? original('flushHeaders').apply(this, a) : g.flushHeaders(0, a); });
  if (originals.json) define('json', function json(this: object, body: unknown) { const g = gates.get(this); return g === undefined ? original('json').call(this, body) : g.json(0, body); });
  return originals;
}

/** One response's gate: layer 0 is the prototype's; layer 1, when present, the instance's. */
class Gate implements ResponseGate {
  private readonly layers: Methods[];
  private active = 0;
  /** >0 while phiguard itself calls down the chain: those calls pass. */
  private passing = 0;
  /** Set once the body (or an answer) went down the chain: later calls come from inner layers. */
  private sealed = false;
  private rawOpen = false;
  private settling = false;
  private vouched: unknown = NONE;
  private vouchedHeaders: Readonly<Record<string, string>> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private endCallback: Fn | undefined = undefined;
  private readonly maxBytes: number;

  constructor(
    private readonly res: GatedResponse,
    private readonly exchange: Exchange,
    private readonly hooks: GateHooks,
    base: Methods,
  ) {
    this.layers = [base];
    // A body is buffered only up to what the plan could project (maxChars of UTF-8).
    this.maxBytes = exchange.host.guard.policy.limits.maxChars * 4 + 65_536;
  }

  get handled(): boolean {
    return this.sealed || this.settling || this.rawOpen || this.exchange.refused || this.chunks.length > 0;
  }

  raise(): void {
    if (this.sealed || this.layers.length > 1) return;
    const res = this.res as unknown as Record<string, unknown>;
    if (!METHODS.some((m) => Object.hasOwn(res, m))) return;
    // Middleware wrapped the response itself: phiguard goes on top of it, for this response.
    const inner: Methods = {};
    for (const m of METHODS) {
      const f = res[m];
      if (typeof f === 'function') inner[m] = f as Fn;
    }
    this.layers.push(inner);
    this.active = 1;
    const self = this;
    if (inner.writeHead) res.writeHead = function writeHead(...a: unknown[]) { return self.writeHead(1, a); };
    if (inner.write) res.write = function write(...a: unknown[]) { return self.write(1, a); };
    if (inner.end) res.end = function end(...a: unknown[]) { return self.end(1, a); };
    if (inner.flushHeaders) res.flushHeaders = function flushHeaders(...a: unknown[]) { return self.flushHeaders(1, a); };
    if (inner.json) res.json = function json(body: unknown) { return self.json(1, body); };
  }

  vouch(value: unknown, headers: Readonly<Record<string, string>>): void {
    this.vouched = value;
    this.vouchedHeaders = headers;
  }

  openRaw(): void {
    if (this.rawOpen) return;
    this.rawOpen = true;
    if (this.exchange.kind === 'phi') this.res.setHeader('Cache-Control', 'no-store');
    this.commitHeaders();
  }

  // ---- the wrapped methods -----------------------------------------------------------------

  /** Whether a call on layer `i` goes straight down: not the active layer, phiguard's own call, after the body, or no PHI. */
  private through(i: number): boolean {
    return i !== this.active || this.passing > 0 || this.sealed || this.rawOpen || this.exchange.kind === 'non-phi';
  }

  private call(i: number, m: Method, args: readonly unknown[]): any {
    return this.layers[i]![m]!.apply(this.res, args as unknown[]);
  }

  writeHead(i: number, args: unknown[]): unknown {
    if (this.through(i)) return this.call(i, 'writeHead', args);
    if (this.exchange.refused) return this.res;
    // Deferred: headers leave with the released body. Status and headers are kept on the response.
    const [status, ...rest] = args;
    if (typeof status === 'number') this.res.statusCode = status;
    const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
    if (Array.isArray(headers)) {
      for (let k = 0; k + 1 < headers.length; k += 2) this.res.setHeader(String(headers[k]), headers[k + 1] as string);
    } else if (headers !== null && typeof headers === 'object') {
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.res.setHeader(k, v as string);
    }
    return this.res;
  }

  flushHeaders(i: number, args: unknown[]): unknown {
    if (this.through(i)) return this.call(i, 'flushHeaders', args);
    return undefined; // headers leave with the released body
  }

  write(i: number, args: unknown[]): boolean {
    if (this.through(i)) return this.call(i, 'write', args) as boolean;
    if (this.exchange.refused) return false;
    const [chunk, encoding, cb] = args;
    const callback = typeof encoding === 'function' ? encoding : cb;
    const ok = this.buffer(chunk, typeof encoding === 'function' ? undefined : encoding);
    if (typeof callback === 'function') process.nextTick(callback as Fn);
    return ok;
  }

  end(i: number, args: unknown[]): unknown {
    if (this.through(i)) {
      const sent = this.call(i, 'end', args);
      // A response phiguard let pass (no PHI, a raw body) retires its gate at Node's end too.
      if (this.passing === 0 && this.res.writableEnded === true) this.retire();
      return sent;
    }
    if (this.exchange.refused || this.settling) return this.res;
    const [chunk, encoding, cb] = args;
    if (typeof chunk === 'function') this.endCallback = chunk as Fn;
    else {
      if (typeof encoding === 'function') this.endCallback = encoding as Fn;
      else if (typeof cb === 'function') this.endCallback = cb as Fn;
      if (!this.buffer(chunk, typeof encoding === 'function' ? undefined : encoding)) return this.res;
    }
    this.finishBody();
    return this.res;
  }

  json(i: number, body: unknown): unknown {
    if (this.through(i)) return this.call(i, 'json', [body]);
    if (this.exchange.refused || this.settling) return this.res;
    if (body === this.vouched) {
      this.vouched = NONE;
      for (const [k, v] of Object.entries(this.vouchedHeaders)) this.res.setHeader(k, v);
      this.commitHeaders();
      this.sealed = true;
      return this.last('json', [body]);
    }
    this.releaseValue(body, true);
    return this.res;
  }

  // ---- releasing ---------------------------------------------------------------------------

  /** Calls the active layer's inner method as phiguard itself. */
  private down(m: Method, args: unknown[]): unknown {
    this.passing++;
    try {
      return this.call(this.active, m, args);
    } finally {
      this.passing--;
    }
  }

  /** Headers go out once, scrubbed of identifiers; a custom reason phrase is dropped (it may name someone). */
  private commitHeaders(): void {
    const { res, exchange } = this;
    const { scanner } = exchange.host.guard;
    scrubHeaders(res, scanner);
    const cookies = res.getHeader('set-cookie');
    if (cookies !== undefined) res.setHeader('Set-Cookie', (Array.isArray(cookies) ? cookies : [cookies]).map((c) => scrubCookie(String(c), scanner)));
    if (res.statusMessage !== undefined) res.statusMessage = undefined as unknown as string;
  }

  answer(a: Answer): void {
    const { res } = this;
    this.exchange.markRefused();
    this.chunks = [];
    this.size = 0;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    dropHeaders(res, ANSWER_DROPS);
    for (const k in a.headers) res.setHeader(k, a.headers[k]!);
    res.statusCode = a.status;
    this.commitHeaders();
    this.sealed = true;
    this.last('end', [JSON.stringify(a.body), 'utf8', this.endCallback]);
  }

  /**
   * Sends the response's last call down the chain; then the response forgets its gate and the
   * adapter its state (later calls reach Node's methods, as after the end).
   */
  private last(m: 'end' | 'json', args: unknown[]): unknown {
    const sent = this.down(m, args);
    this.retire();
    return sent;
  }

  /** The response forgets its gate, and the adapter its state (once). */
  private retire(): void {
    if (gates.get(this.res) !== this) return;
    gates.delete(this.res);
    this.hooks.done?.();
  }

  /** Applies the exchange's answer, sync or async; `then` runs when it let the body through. */
  private settle<T>(step: Maybe<T | Answer>, then: (value: T) => void): void {
    if (isPromise<T | Answer>(step)) {
      this.settling = true;
      step.then(
        (v) => {
          this.settling = false;
          if (isAnswer(v)) this.answer(v);
          else then(v);
        },
        (err: unknown) => {
          this.settling = false;
          this.answer(this.exchange.fail(err));
        },
      );
    } else if (isAnswer(step)) this.answer(step);
    else then(step);
  }

  /** Runs `then` once the request is decided (late decision when no route dispatch was seen). */
  private decided(then: () => void): void {
    if (this.exchange.kind !== 'phi' || this.exchange.decided) return then();
    this.settle<null>(this.hooks.decide() as Maybe<null | Answer>, () => {
      // The handler already read the body: DLP that should have run before it cannot run now.
      if (this.exchange.needsInspection()) return this.answer(this.exchange.fail(Object.assign(new Error('request body not inspected'), { status: 415 })));
      then();
    });
  }

  private releaseValue(value: unknown, viaJson: boolean): void {
    const status = this.res.statusCode;
    if (status >= 400) return this.answer(this.exchange.answerError(status, value));
    // Projected and serialized in one pass (the plan's compiled serializer), unless the app set
    // Express's `json spaces` / `json replacer`: then Express's res.json serializes the projection.
    const app = (this.res as unknown as { app?: { get?(name: string): unknown } }).app;
    const styled = viaJson && typeof app?.get === 'function' && (app.get('json spaces') !== undefined || app.get('json replacer') !== undefined);
    if (styled) {
      this.decided(() => this.settle(this.exchange.release(value), (released) => this.sendStyled(released.body, released.headers)));
      return;
    }
    this.decided(() => this.settle(this.exchange.release(value, 'json'), (released) => this.sendReleased(released.json ?? 'null', released.headers, viaJson)));
  }

  private sendStyled(body: unknown, headers: Readonly<Record<string, string>>): void {
    const { res } = this;
    for (const k in headers) res.setHeader(k, headers[k]!);
    dropHeaders(res, BODY_HEADERS);
    this.commitHeaders();
    this.sealed = true;
    this.last('json', [body]);
  }

  private sendReleased(text: string, headers: Readonly<Record<string, string>>, viaJson: boolean): void {
    const { res } = this;
    for (const k in headers) res.setHeader(k, headers[k]!);
    dropHeaders(res, BODY_HEADERS);
    if (res.getHeader('content-type') === undefined || !viaJson) res.setHeader('Content-Type', 'application/json; charset=utf-8');
    this.commitHeaders();
    this.sealed = true;
    // Straight to Node's end (which drops the body of a HEAD): a released body is Cache-Control:
    // no-store, so an ETag and a 304 would only cost a hash per response. Content-Length as
    // Express's send sets it, HEAD included.
    res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
    this.last('end', [text, 'utf8', this.endCallback]);
  }

  private finishBody(): void {
    const { res, exchange } = this;
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    const status = res.statusCode;
    if (status >= 400) {
      const parsed = parseJson(bytes, res);
      return this.answer(exchange.answerError(status, parsed === NONE ? undefined : parsed));
    }
    if (bytes.length === 0 || NO_BODY.has(status) || (status >= 300 && status < 400)) {
      // No body (204, 304, HEAD), or a redirect's generated text that repeats its Location: only
      // the headers leave, scrubbed.
      const done = () => {
        dropHeaders(res, BODY_HEADERS);
        this.commitHeaders();
        this.sealed = true;
        this.last('end', [undefined, undefined, this.endCallback]);
      };
      // A 204 (or an empty 2xx) on a PHI route did something (a DELETE, an update) and sends
      // nothing: it is released as "no value", so audited as the request's action, unless an
      // adapter released the handler's (empty) value already (Nest's interceptor vouches for it).
      // HEAD is the GET it mirrors, audited where its value is released.
      const empty = status === 204 || (status >= 200 && status < 300 && bytes.length === 0 && (res as { req?: { method?: string } }).req?.method !== 'HEAD');
      if (empty && exchange.kind === 'phi' && this.vouched === NONE) return this.decided(() => this.settle(exchange.release(undefined), () => done()));
      return this.decided(done);
    }
    if (exchange.kind === 'unmapped') return this.answer(exchange.refuseUnmapped());
    const parsed = parseJson(bytes, res);
    if (parsed !== NONE) return this.releaseValue(parsed, false);
    this.decided(() =>
      this.settle<null>(exchange.releaseRaw(), () => {
        if (exchange.kind === 'phi') res.setHeader('Cache-Control', 'no-store');
        this.commitHeaders();
        this.sealed = true;
        this.last('end', [bytes, undefined, this.endCallback]);
      }),
    );
  }

  private buffer(chunk: unknown, encoding: unknown): boolean {
    if (chunk === undefined || chunk === null) return true;
    const b = Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    this.size += b.length;
    if (this.size > this.maxBytes) {
      // Fail closed: a body too large to project is refused whole, never sent in part.
      this.answer(this.exchange.fail(Object.assign(new Error('response body over maxBytes'), { status: 500 })));
      return false;
    }
    this.chunks.push(Buffer.from(b));
    return true;
  }
}

const NONE: unique symbol = Symbol('none');

/** Removes the headers that are set (most responses have none of them: no removal cost). */
function dropHeaders(res: GatedResponse, names: readonly string[]): void {
  for (const name of res.getHeaderNames()) if (names.includes(name)) res.removeHeader(name);
}

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
