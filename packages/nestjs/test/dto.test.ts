import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { PolicyError, compilePolicy, definePolicy } from '@phiguard/core';
import { Phi, dtoFields, policyFromDtos } from '../src/index.js';

class ObservationDto {
  @Phi({ class: 'clinical', description: 'LOINC code' })
  code!: string;
  @Phi({ class: 'clinical' })
  value!: number;
  @Phi({ class: 'free-text' })
  note?: string;
}

class PatientDto {
  @Phi({ class: 'direct-identifier' })
  id!: string;
  @Phi({ class: 'direct-identifier', mask: { op: 'partial', keep: 4 } })
  mrn!: string;
  @Phi({ class: 'direct-identifier', encrypt: true })
  ssn!: string;
  @Phi({ class: 'clinical', nested: () => ObservationDto, each: true })
  observations!: ObservationDto[];
}

class ExtendedPatientDto extends PatientDto {
  @Phi({ class: 'sensitive', category: 'HIV' })
  hivStatus!: string;
}

const central = definePolicy({
  roles: ['clerk', 'doctor'],
  resources: {
    Patient: {
      id: 'id',
      fields: { id: 'direct-identifier', 'observations[].code': 'clinical' },
      disclose: {
        clerk: { HOPERAT: { '@direct-identifier': 'send', 'observations[].code': 'send' } },
        doctor: { TREAT: { '*': 'send' } },
      },
    },
  },
});

describe('@Phi and policyFromDtos', () => {
  it('flattens DTO declarations, nested arrays included, and inherits parent fields', () => {
    expect([...dtoFields(PatientDto).keys()]).toEqual(['id', 'mrn', 'ssn', 'observations[].code', 'observations[].value', 'observations[].note']);
    const extended = dtoFields(ExtendedPatientDto);
    expect(extended.get('hivStatus')).toMatchObject({ class: 'sensitive', category: 'HIV' });
    expect(extended.has('mrn')).toBe(true);
    expect(dtoFields(PatientDto).has('hivStatus')).toBe(false);
  });

  it('merges the fields into the policy without changing the input, and applies masks where a class rule would send in full', () => {
    const before = JSON.stringify(central);
    const merged = policyFromDtos(central, { Patient: PatientDto });
    expect(JSON.stringify(central)).toBe(before);
    const fields = merged.resources.Patient.fields as Record<string, unknown>;
    expect(fields.ssn).toEqual({ class: 'direct-identifier', encrypt: true });
    expect(fields['observations[].value']).toEqual({ class: 'clinical' });
    // The clerk's '@direct-identifier': 'send' now masks the MRN; the doctor's '*' too.
    expect((merged.resources.Patient.disclose.clerk!.HOPERAT as Record<string, unknown>).mrn).toEqual({ op: 'partial', keep: 4 });
    const compiled = compilePolicy({ ...merged, resources: { Patient: { ...merged.resources.Patient, fields: { ...fields, ssn: 'direct-identifier' } } } } as never, { mode: 'production' });
    const out = compiled.protect(
      { id: 'p1', mrn: 'MRN00012345', ssn: '123-45-6789', observations: [{ code: 'x', value: 1, note: 'n' }] },
      { principal: { id: 'u' }, roles: ['clerk'], purposeOfUse: 'HOPERAT' },
      'Patient',
    );
    expect(out.value).toEqual({ id: 'p1', mrn: '****2345', ssn: '123-45-6789', observations: [{ code: 'x' }] });
  });

  it('reports every conflict with the central policy at once, naming resource, field and DTO', () => {
    class Conflicting {
      @Phi({ class: 'clinical' })
      id!: string;
      @Phi({ class: 'free-text' })
      'observations[].code'!: string;
    }
    let error: unknown;
    try {
      policyFromDtos(central, { Patient: Conflicting });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems).toEqual([
      'Patient.id: Conflicting declares clinical, the policy direct-identifier',
      'Patient.observations[].code: Conflicting declares free-text, the policy clinical',
    ]);
  });

  it('refuses a resource the policy does not have, and a DTO without @Phi fields', () => {
    class Empty {}
    expect(() => policyFromDtos(central, { Patients: PatientDto })).toThrow(/no resource "Patients"/);
    expect(() => policyFromDtos(central, { Patient: Empty })).toThrow(/Empty declares no @Phi fields/);
  });
});
