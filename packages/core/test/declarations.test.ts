import { describe, expect, it } from 'vitest';
import { PolicyError, compilePolicy, definePolicy, type FieldSpec } from '@phiguard/core';
import { declarationSources, flattenDeclarations, policyFromFieldDeclarations, type DeclarationSource, type FieldDeclaration, type NestedDeclaration } from '@phiguard/core/policy';

const central = definePolicy({
  roles: ['clerk', 'doctor', 'auditor'],
  resources: {
    Patient: {
      id: 'id',
      fields: { id: 'direct-identifier', mrn: 'direct-identifier', name: { class: 'direct-identifier' }, hiv: { class: 'sensitive', category: 'HIV' } },
      disclose: {
        clerk: { HOPERAT: { '@direct-identifier': 'send' } },
        doctor: { TREAT: { '*': 'send', mrn: 'redact' } },
        auditor: { HOPERAT: { '@direct-identifier': 'redact' } },
      },
    },
  },
});

const source = (name: string, fields: Record<string, FieldDeclaration>): DeclarationSource => ({ name, fields: () => new Map(Object.entries(fields)) });
const problemsOf = (run: () => unknown): readonly string[] => {
  try {
    run();
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected a PolicyError');
};

describe('policyFromFieldDeclarations', () => {
  it('adds declared fields without changing the input, keeping the policy spec where both agree', () => {
    const before = JSON.stringify(central);
    const merged = policyFromFieldDeclarations(central, {
      Patient: [source('A', { id: { class: 'direct-identifier' }, ssn: { class: 'direct-identifier', encrypt: true, description: 'SSN' } })],
    });
    expect(JSON.stringify(central)).toBe(before);
    const fields = merged.resources.Patient.fields as Record<string, unknown>;
    expect(fields.id).toBe('direct-identifier');
    expect(fields.ssn).toEqual({ class: 'direct-identifier', encrypt: true, description: 'SSN' });
  });

  // Each row: the policy's field, a declaration, whether they conflict.
  const agreement: readonly [string, FieldDeclaration, boolean][] = [
    ['name', { class: 'direct-identifier' }, false],
    ['name', { class: 'direct-identifier', description: 'differs only in prose' }, false],
    ['name', { class: 'clinical' }, true],
    ['name', { class: 'direct-identifier', encrypt: true }, true],
    ['name', { class: 'direct-identifier', encrypt: false }, false],
    ['hiv', { class: 'sensitive', category: 'HIV' }, false],
    ['hiv', { class: 'sensitive', category: 'genetic' }, true],
    ['hiv', { class: 'sensitive' }, true],
  ];
  it.each(agreement)('a declaration of %s as %j conflicts: %s', (path, declaration, conflicts) => {
    const run = () => policyFromFieldDeclarations(central, { Patient: [source('Dto', { [path]: declaration })] });
    if (!conflicts) expect(() => run()).not.toThrow();
    else expect(problemsOf(run)).toEqual([expect.stringMatching(new RegExp(`^Patient\\.${path}: Dto declares `))]);
  });

  it('reports every problem at once, in the caller and marker words given', () => {
    const cyclic: DeclarationSource = { name: 'Loop', fields: () => { throw new PolicyError(['Loop: nests in a cycle']); } };
    const broken: DeclarationSource = { name: 'Broken', fields: () => { throw new Error('boom'); } };
    const problems = problemsOf(() =>
      policyFromFieldDeclarations(
        central,
        {
          Patients: [source('A', { id: { class: 'direct-identifier' } })],
          Patient: [
            cyclic,
            broken,
            source('Empty', {}),
            source('B', { name: { class: 'clinical' }, mrn: { class: 'direct-identifier', mask: 'redact' } }),
            source('C', { mrn: { class: 'direct-identifier', mask: { op: 'partial', keep: 4 } } }),
          ],
        },
        { caller: 'fromSchemas', marker: '@Field', sources: 'schemas' },
      ),
    );
    expect(problems).toEqual([
      'fromSchemas: the policy has no resource "Patients"',
      'Loop: nests in a cycle',
      'Error: boom',
      'Patient: Empty declares no @Field fields',
      'Patient.name: B declares clinical, the policy direct-identifier',
      'Patient.mrn: schemas disagree on its mask',
    ]);
  });

  it('writes a mask only into rule sets that would send the field in full by class or *', () => {
    const mask = { op: 'partial', keep: 4 } as const;
    const merged = policyFromFieldDeclarations(central, { Patient: [source('Dto', { mrn: { class: 'direct-identifier', mask } })] });
    const disclose = merged.resources.Patient.disclose as Record<string, Record<string, Record<string, unknown>>>;
    expect(disclose.clerk!.HOPERAT!.mrn).toEqual(mask); // '@direct-identifier': 'send'
    expect(disclose.doctor!.TREAT!.mrn).toBe('redact'); // the path's own rule wins over '*'
    expect(disclose.auditor!.HOPERAT!.mrn).toBeUndefined(); // the class rule does not send in full
    const compiled = compilePolicy(merged, { mode: 'production' });
    const out = compiled.protect({ id: 'p1', mrn: 'MRN00012345' }, { principal: { id: 'u' }, roles: ['clerk'], purposeOfUse: 'HOPERAT' }, 'Patient');
    expect(out.value).toEqual({ id: 'p1', mrn: '****2345' });
  });

  it('accepts declarations that are plain field specs', () => {
    const spec: FieldSpec = { class: 'clinical' };
    const merged = policyFromFieldDeclarations(central, { Patient: [source('S', { 'labs[].value': spec })] });
    expect((merged.resources.Patient.fields as Record<string, unknown>)['labs[].value']).toEqual({ class: 'clinical' });
  });
});

/** A class-like source whose declarations a framework would read from its decorators. */
interface Node {
  readonly name: string;
  fields: [string, NestedDeclaration<Node>][];
}
const read = (n: Node) => n.fields;

describe('flattenDeclarations', () => {
  const observation: Node = { name: 'ObservationDto', fields: [['code', { class: 'clinical' }], ['note', { class: 'free-text', mask: 'redact' }]] };
  const patient: Node = {
    name: 'PatientDto',
    fields: [
      ['mrn', { class: 'direct-identifier' }],
      ['observations', { class: 'clinical', nested: () => observation, each: true }],
      ['latest', { class: 'clinical', nested: () => observation }],
    ],
  };

  it('nests paths under the property (`[]` for arrays), keeping each declaration and its mask', () => {
    const flat = flattenDeclarations(patient, read);
    expect([...flat.keys()]).toEqual(['mrn', 'observations[].code', 'observations[].note', 'latest.code', 'latest.note']);
    expect(flat.get('observations[].note')).toEqual({ class: 'free-text', mask: 'redact' });
    expect(observation.fields).toHaveLength(2); // the sources are read, not changed
  });

  it('a source reached again through its own nesting is a PolicyError naming it; siblings sharing a source are fine', () => {
    const a: Node = { name: 'A', fields: [] };
    const b: Node = { name: 'B', fields: [['a', { class: 'clinical', nested: () => a }]] };
    a.fields.push(['b', { class: 'clinical', nested: () => b }]);
    expect(problemsOf(() => flattenDeclarations(a, read))).toEqual(['A: DTOs nest in a cycle; declare the repeated part once']);
    const shared: Node = { name: 'Both', fields: [['x', { class: 'clinical', nested: () => observation }], ['y', { class: 'clinical', nested: () => observation }]] };
    expect([...flattenDeclarations(shared, read).keys()]).toEqual(['x.code', 'x.note', 'y.code', 'y.note']);
  });

  it('a later declaration of the same path wins, as a subclass overrides its parent', () => {
    const n: Node = { name: 'N', fields: [['mrn', { class: 'direct-identifier' }], ['mrn', { class: 'non-phi' }]] };
    expect(flattenDeclarations(n, read).get('mrn')).toEqual({ class: 'non-phi' });
  });
});

describe('declarationSources', () => {
  it('one or several classes per resource become named sources, read only when merged', () => {
    let reads = 0;
    const fields = (n: Node) => {
      reads += 1;
      return flattenDeclarations(n, read);
    };
    const one: Node = { name: 'One', fields: [['mrn', { class: 'direct-identifier' }]] };
    const two: Node = { name: 'Two', fields: [['hiv', { class: 'sensitive', category: 'HIV' }]] };
    const sources = declarationSources({ Patient: [one, two], Other: one }, fields);
    expect(Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.map((x) => x.name)]))).toEqual({ Patient: ['One', 'Two'], Other: ['One'] });
    expect(reads).toBe(0);
    const merged = policyFromFieldDeclarations(central, { Patient: sources.Patient! });
    expect(reads).toBe(2);
    expect(compilePolicy(merged, { secret: 'phiguard-test-secret-0123456789abcdef' }).resources.get('Patient')?.fields.has('hiv')).toBe(true);
  });
});
