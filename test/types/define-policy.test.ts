import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The headline claim of `definePolicy`: a misspelled role, purpose of use, field path, field
 * class or operator is a compile error, reported at the misspelling. A valid policy exercising
 * every place those names appear is mutated, one name at a time, into generated misspellings
 * (a substituted, dropped, doubled or swapped letter); all variants are type-checked in one
 * TypeScript program against core's sources, and each must fail on the mutated token while the
 * original compiles clean. (`define-policy.test-d.ts` next to this file states the same with
 * `@ts-expect-error`, checked by `npm run lint`.)
 */
const root = resolve(__dirname, '../..');

const BASE = `{
  roles: ['nurse', 'billing', 'auditor'],
  separationOfDuties: [['billing', 'auditor']],
  breakGlass: { roles: ['nurse'], reviewers: ['auditor'] },
  resources: {
    Results: {
      fields: {
        'patient.name': 'direct-identifier',
        'patient.zip': 'quasi-identifier',
        'tests[].value': 'clinical',
        'tests[].code': { class: 'clinical' },
        note: { class: 'free-text' },
        'meta.source': 'non-phi',
      },
      relationship: { nurse: { TREAT: 'care-team' } },
      sensitive: [{ elements: 'tests[]', codes: 'code', mask: ['value'], categories: { HIV: { codes: ['20447-9'], reveal: { nurse: ['TREAT'] } } } }],
      disclose: {
        nurse: {
          TREAT: { 'patient.name': 'send', 'tests[].value': { op: 'partial', keep: 2 }, '@free-text': { op: 'scrub', types: ['SSN'] }, '@quasi-identifier': 'zip3' },
          ETREAT: { '*': 'send' },
        },
        billing: { HPAYMT: { 'patient.name': { op: 'token', prefix: 'p_' }, '*': 'redact' } },
      },
    },
  },
}`;

/** Each place a name appears: a snippet of BASE locating it, and the name inside it that is misspelled. */
const SITES: readonly { kind: string; token: string; name: string }[] = [
  { kind: 'role in disclose', token: "nurse: {\n          TREAT", name: 'nurse' },
  { kind: 'role in disclose', token: 'billing: { HPAYMT', name: 'billing' },
  { kind: 'role in separationOfDuties', token: "['billing', 'auditor']", name: 'auditor' },
  { kind: 'role in breakGlass.roles', token: "roles: ['nurse']", name: 'nurse' },
  { kind: 'role in breakGlass.reviewers', token: "reviewers: ['auditor']", name: 'auditor' },
  { kind: 'role in relationship', token: "nurse: { TREAT: 'care-team' }", name: 'nurse' },
  { kind: 'role in sensitive reveal', token: "nurse: ['TREAT']", name: 'nurse' },
  { kind: 'purpose in disclose', token: "TREAT: { 'patient.name'", name: 'TREAT' },
  { kind: 'purpose in disclose', token: 'HPAYMT: {', name: 'HPAYMT' },
  { kind: 'purpose in relationship', token: "TREAT: 'care-team'", name: 'TREAT' },
  { kind: 'purpose in sensitive reveal', token: "['TREAT']", name: 'TREAT' },
  { kind: 'field path in a rule', token: "'patient.name': 'send'", name: 'patient.name' },
  { kind: 'field path in a rule', token: "'tests[].value': { op", name: 'tests[].value' },
  { kind: 'field class', token: "'quasi-identifier',", name: 'quasi-identifier' },
  { kind: 'field class', token: "{ class: 'free-text' }", name: 'free-text' },
  { kind: 'class selector', token: "'@free-text'", name: 'free-text' },
  { kind: 'class selector', token: "'@quasi-identifier': 'zip3'", name: 'quasi-identifier' },
  { kind: 'operator', token: "'zip3'", name: 'zip3' },
  { kind: 'operator', token: "'redact'", name: 'redact' },
  { kind: 'operator', token: "op: 'partial'", name: 'partial' },
  { kind: 'operator', token: "op: 'token'", name: 'token' },
  { kind: 'identifier type of scrub', token: "['SSN']", name: 'SSN' },
];

/** Misspellings of `name`: one edit of a letter (never producing the name itself). */
const misspelling = (name: string) => {
  const letters = [...name].map((c, i) => [c, i] as const).filter(([c]) => /[a-zA-Z]/.test(c)).map(([, i]) => i);
  return fc
    .tuple(fc.constantFrom(...letters), fc.constantFrom('substitute', 'drop', 'double', 'swap'), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzQXZ'))
    .map(([i, edit, c]) => {
      const chars = [...name];
      if (edit === 'substitute') chars[i] = chars[i] === c ? (c === 'x' ? 'q' : 'x') : c;
      else if (edit === 'drop') chars.splice(i, 1);
      else if (edit === 'double') chars.splice(i, 0, chars[i]!);
      else if (i + 1 < chars.length && chars[i] !== chars[i + 1]) [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
      else chars[i] = chars[i] === 'q' ? 'z' : 'q';
      return chars.join('');
    })
    .filter((s) => s !== name && s.length > 0 && !/^@?$/.test(s));
};

interface Variant {
  kind: string;
  name: string;
  typo: string;
  file: string;
  /** Offset of the misspelled name in the file. */
  at: number;
}

const dir = mkdtempSync(join(tmpdir(), 'phiguard-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const header = "import { definePolicy } from '@phiguard/core';\nexport const policy = definePolicy(";

function variants(): Variant[] {
  const out: Variant[] = [];
  SITES.forEach((site, s) => {
    const siteAt = BASE.indexOf(site.token);
    expect(siteAt, `site ${site.token}`).toBeGreaterThanOrEqual(0);
    const { name } = site;
    const nameAt = siteAt + site.token.indexOf(name);
    expect(BASE.slice(nameAt, nameAt + name.length)).toBe(name);
    fc.sample(misspelling(name), { numRuns: 3, seed: 17 + s }).forEach((typo, k) => {
      const text = BASE.slice(0, nameAt) + typo + BASE.slice(nameAt + name.length);
      const file = join(dir, `v${s}-${k}.ts`);
      writeFileSync(file, `${header}${text});\n`);
      out.push({ kind: site.kind, name, typo, file, at: header.length + nameAt });
    });
  });
  return out;
}

function typeCheck(files: string[]): Map<string, ts.Diagnostic[]> {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    baseUrl: root,
    paths: { '@phiguard/core': ['packages/core/src/index.ts'] },
  };
  const program = ts.createProgram(files, options);
  const byFile = new Map<string, ts.Diagnostic[]>(files.map((f) => [f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file?.fileName;
    if (name !== undefined && byFile.has(name)) byFile.get(name)!.push(d);
    // An error inside core's own sources would make every variant fail for the wrong reason.
    else expect.fail(`unexpected diagnostic outside the variants: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  return byFile;
}

const line = (file: ts.SourceFile, at: number) => file.getLineAndCharacterOfPosition(at).line;

describe('definePolicy types', () => {
  it('a misspelled role, purpose, field path, class or operator is a compile error at the misspelling', () => {
    const valid = join(dir, 'valid.ts');
    writeFileSync(valid, `${header}${BASE});\n`);
    const all = variants();
    expect(new Set(all.map((v) => v.kind)).size).toBe(new Set(SITES.map((s) => s.kind)).size);
    const diagnostics = typeCheck([valid, ...all.map((v) => v.file)]);
    expect(diagnostics.get(valid)!.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    const missed: string[] = [];
    for (const v of all) {
      const found = diagnostics.get(v.file)!;
      // The error spans the misspelled name, or sits on the property holding it and quotes it.
      const pointsAt = (d: ts.Diagnostic) =>
        d.start !== undefined &&
        ((d.start <= v.at && v.at <= d.start + (d.length ?? 0)) ||
          (line(d.file!, d.start) === line(d.file!, v.at) && ts.flattenDiagnosticMessageText(d.messageText, ' ').includes(`"${v.typo}"`)));
      if (!found.some(pointsAt)) {
        const seen = found.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 120));
        missed.push(`${v.kind}: "${v.name}" → "${v.typo}" (${seen.join(' | ') || 'no error'})`);
      }
    }
    expect(missed).toEqual([]);
  }, 120_000);
});
