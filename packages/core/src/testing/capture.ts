/**
 * Capture of every channel a value can leave an application by: log lines, spans, HTTP
 * responses (status, headers, body), the console and stderr. Each capture is a list of
 * {@link Captured} items the assertions search.
 */

/** Something that left the application, and where it went. */
export interface Captured {
  /** `log`, `span`, `http.body`, `http.header`, `console`, `stderr`, `audit`… */
  readonly channel: string;
  /** Where in the channel: a line number, a header name, a span name and attribute… */
  readonly location: string;
  readonly text: string;
}

/** A pino destination that keeps every line: `pino({}, capture.stream)`. */
export function captureLog(channel = 'log') {
  const lines: string[] = [];
  return {
    /** Pass as pino's destination. */
    stream: { write: (line: string) => void lines.push(line) },
    lines,
    captured: (): Captured[] => lines.map((text, i) => ({ channel, location: `line ${i + 1}`, text })),
    clear: () => void (lines.length = 0),
  };
}

/** The shape of an OpenTelemetry ReadableSpan the kit reads (from `InMemorySpanExporter`). */
export interface SpanLike {
  readonly name: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly events?: readonly { readonly name: string; readonly attributes?: Readonly<Record<string, unknown>> }[];
  readonly status?: { readonly message?: string };
}

/**
 * What finished spans carry: names, attributes, event names and attributes, status messages.
 * Pass `exporter.getFinishedSpans()` of an `InMemorySpanExporter`.
 */
export function capturedSpans(spans: readonly SpanLike[], channel = 'span'): Captured[] {
  const out: Captured[] = [];
  for (const span of spans) {
    out.push({ channel, location: `span "${span.name}" name`, text: span.name });
    for (const [k, v] of Object.entries(span.attributes ?? {})) out.push({ channel, location: `span "${span.name}" attribute ${k}`, text: String(v) });
    for (const e of span.events ?? []) {
      out.push({ channel, location: `span "${span.name}" event name`, text: e.name });
      for (const [k, v] of Object.entries(e.attributes ?? {})) {
        out.push({ channel, location: `span "${span.name}" event "${e.name}" attribute ${k}`, text: String(v) });
      }
    }
    if (span.status?.message) out.push({ channel, location: `span "${span.name}" status`, text: span.status.message });
  }
  return out;
}

/** A response as recorded: from `fetch`, supertest, or your own recorder. */
export interface RecordedResponse {
  readonly status: number;
  readonly headers: Headers | Readonly<Record<string, string | string[] | number | undefined>>;
  readonly text: string;
}

/** Status line, every header and the body of an HTTP response. */
export function capturedResponse(res: RecordedResponse, label = ''): Captured[] {
  const at = label ? `${label} ` : '';
  const out: Captured[] = [{ channel: 'http.body', location: `${at}body (${res.status})`, text: res.text }];
  const entries: [string, string][] =
    typeof (res.headers as Headers).forEach === 'function' && typeof (res.headers as Headers).get === 'function'
      ? [...(res.headers as Headers).entries()]
      : Object.entries(res.headers as Record<string, unknown>).flatMap(([k, v]) =>
          v === undefined ? [] : Array.isArray(v) ? v.map((x) => [k, String(x)] as [string, string]) : [[k, String(v)] as [string, string]],
        );
  for (const [name, value] of entries) out.push({ channel: 'http.header', location: `${at}header ${name}`, text: value });
  return out;
}

/** Records a `fetch` response (reads its body) as {@link Captured} items, and returns the parsed text too. */
export async function recordFetch(res: Response, label = ''): Promise<{ readonly captured: Captured[]; readonly text: string; readonly status: number }> {
  const text = await res.text();
  return { captured: capturedResponse({ status: res.status, headers: res.headers, text }, label), text, status: res.status };
}

/**
 * Captures `console.*`, `process.stdout.write` and `process.stderr.write` until `restore()`.
 * Output still reaches the terminal unless `quiet`.
 */
export function captureConsole(options: { readonly quiet?: boolean } = {}) {
  const items: Captured[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  const out = process.stdout.write;
  const err = process.stderr.write;
  methods.forEach((m, i) => {
    console[m] = (...args: unknown[]) => {
      items.push({ channel: 'console', location: `console.${m}`, text: args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ') });
      if (!options.quiet) saved[i]!.apply(console, args);
    };
  });
  const wrap = (channel: string, original: typeof process.stdout.write) =>
    function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      items.push({ channel, location: channel, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
      return options.quiet ? true : (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = wrap('stdout', out);
  process.stderr.write = wrap('stderr', err);
  return {
    captured: () => [...items],
    restore: () => {
      methods.forEach((m, i) => (console[m] = saved[i]!));
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
