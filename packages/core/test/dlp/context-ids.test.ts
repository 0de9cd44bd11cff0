/**
 * Context-bound identifiers: each label, key form and format of the second generation, as a
 * matrix of label × value × surrounding syntax; offsets must cover exactly the value.
 */
import { describe, expect, it } from 'vitest';
import { createScanner, type PhiType } from '../../src/dlp/index.js';

const scanner = createScanner();

const CASES: ReadonlyArray<[PhiType, readonly string[], readonly string[]]> = [
  ['MRN', ['patientId=', 'Pt ID: ', 'Patient ID #: ', 'patient_id: ', 'PTID '], ['48213902', 'A7730192']],
  ['HEALTH_PLAN_ID', ['insuranceId=', 'Health Plan Member No. ', 'member number ', 'Member No: ', 'insurance number '], ['XKJ882910344', 'W228190341']],
  ['ACCOUNT_NUMBER', ['HAR ', 'HAR: ', 'Hospital account '], ['4400192', '55001931']],
  ['LICENSE_NUMBER', ['State ID: ', 'state ID # ', 'Driver ID '], ['S12345678', 'D4410982']],
  ['VEHICLE_ID', ['License plate: ', 'licence plate ', 'tag ', 'Plate # ', 'plate no. '], ['7ABC123', 'ABC-1234', '8XYZ442']],
];
/** The same label as a JSON key, an XML element and key=value. */
const KEYED: ReadonlyArray<[PhiType, string, string]> = [
  ['MRN', 'patientId', '48213902'],
  ['HEALTH_PLAN_ID', 'insuranceId', 'XKJ882910344'],
  ['HEALTH_PLAN_ID', 'memberId', 'W228190341'],
  ['VEHICLE_ID', 'licensePlate', '7ABC123'],
];

const only = (text: string, type: PhiType) => scanner.scan(text).filter((f) => f.type === type).map((f) => text.slice(f.start, f.end));

describe('labels', () => {
  for (const [type, labels, values] of CASES) {
    for (const label of labels) {
      it.each(values)(`${type} after "${label}" %s`, (value) => {
        expect(only(`Registration: ${label}${value} (verified)`, type)).toEqual([value]);
      });
    }
  }
});

describe('keys as context', () => {
  it.each(KEYED)('%s as JSON, XML and key=value (%s)', (type, key, value) => {
    expect(only(`{"${key}": "${value}", "status": "active"}`, type)).toEqual([value]);
    expect(only(`<${key}>${value}</${key}>`, type)).toEqual([value]);
    expect(only(`?${key}=${value}&v=2`, type)).toEqual([value]);
  });
});

describe('formats', () => {
  it('GS1 UDI strings (01)…(17)…(10)…(21)…', () => {
    for (const udi of ['(01)00884838000544(17)250131(21)A1B2C3', '(01)10614141000415(17)261231(10)LOT42(21)SN7788', '(01)00884838000544']) {
      expect(only(`Implant: ${udi} placed`, 'DEVICE_ID')).toEqual([udi]);
    }
  });
  it('M/D dates need a date cue; fractions do not', () => {
    expect(only('seen 3/14 for follow-up', 'DATE')).toEqual(['3/14']);
    expect(only('DOS: 11/2', 'DATE')).toEqual(['11/2']);
    expect(only('admitted 12/31, discharged 1/2', 'DATE')).toEqual(['12/31', '1/2']);
    expect(only('take 1/2 tablet; 3/4 of the dose', 'DATE')).toEqual([]);
    expect(only('seen 13/45', 'DATE')).toEqual([]);
  });
  it('DDMMMYYYY and DDMMMYY dates, calendar-checked', () => {
    expect(only('admitted 14MAR2024 via ED', 'DATE')).toEqual(['14MAR2024']);
    expect(only('DOB 03Jan51', 'DATE')).toEqual(['03Jan51']);
    expect(only('collected 31FEB2024', 'DATE')).toEqual([]);
  });
  it('E.164 phone numbers and bare 10 digits with an extension', () => {
    expect(only('call +16175550143 today', 'PHONE')).toEqual(['+16175550143']);
    expect(only('tel +442071838750', 'PHONE')).toEqual(['+442071838750']);
    expect(only('reach 6175550143 ext 21', 'PHONE')).toEqual(['6175550143 ext 21']);
    expect(only('order 6175550143', 'PHONE')).toEqual([]);
  });
});
