import { describe, expect, it } from 'vitest';
import { PolicyError, compilePolicy, definePolicy, type FieldSpec } from '@phiguard/core';
import { policyFromFieldDeclarations, type DeclarationSource, type FieldDeclaration } from '@phiguard/core/policy';

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
