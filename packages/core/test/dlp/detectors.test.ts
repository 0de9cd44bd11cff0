import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';
import { found, textsOf, typesIn } from './helpers.js';

describe('SSN', () => {
  it('finds dashed and spaced SSNs with exact offsets', () => {
    const text = 'SSN: 123-45-6789 and 219 09 9999.';
    const f = createScanner().scan(text);
    expect(f.map((x) => [x.type, x.start, x.end])).toEqual([
      ['SSN', 5, 16],
      ['SSN', 21, 32],
    ]);
  });
  it('finds 9 bare digits only next to an SSN context word', () => {
    expect(textsOf('Social Security #: 455123398', 'SSN')).toEqual(['455123398']);
    expect(textsOf('Order 455123398 shipped', 'SSN')).toEqual([]);
  });
  it.each(['000-12-3456', '666-45-6789', '900-12-3456', '987-65-4321', '123-00-4567', '123-45-0000'])(
    'rejects the invalid SSN %s',
    (ssn) => {
      expect(textsOf(`SSN ${ssn}`, 'SSN')).toEqual([]);
    },
  );
  it('does not take part of a longer number', () => {
    expect(textsOf('ref 1123-45-6789', 'SSN')).toEqual([]);
    expect(textsOf('123-45-67890', 'SSN')).toEqual([]);
  });
  it('context raises confidence', () => {
    const s = createScanner();
    const [bare] = s.scan('value 123-45-6789');
    const [ctx] = s.scan('SSN 123-45-6789');
    expect(ctx!.confidence).toBeGreaterThan(bare!.confidence);
  });
});

describe('credit cards', () => {
  it.each([
    ['4551 3374 7674 1526', 'Visa'],
    ['5534-3899-7697-2472', 'Mastercard'],
    ['3498 593686 79360', 'Amex 4-6-5'],
    ['6011022579429281', 'Discover'],
    ['3530908637822526', 'JCB'],
    ['4360987925876', 'Visa 13'],
    ['4056696814398558453', 'Visa 19'],
  ])('finds %s (%s)', (card) => {
    expect(textsOf(`card ${card} on file`, 'CREDIT_CARD')).toEqual([card]);
  });
  it('rejects Luhn failures and unknown brands', () => {
    expect(textsOf('card 4551337476741527', 'CREDIT_CARD')).toEqual([]);
    expect(textsOf('card 5114 9536 7566 5163', 'CREDIT_CARD')).toEqual([]);
    expect(textsOf('card 1234 5678 9012 3452', 'CREDIT_CARD')).toEqual([]); // Luhn-valid, no brand
  });
});

describe('NPI', () => {
  it('validates the Luhn check over 80840 + number', () => {
    expect(textsOf('NPI 1019912371', 'NPI')).toEqual(['1019912371']);
    expect(textsOf('NPI 1019912374', 'NPI')).toEqual([]);
    expect(textsOf('NPI 3019912371', 'NPI')).toEqual([]);
  });
  it('context raises confidence; a negative context word suppresses a bare candidate', () => {
    const s = createScanner();
    expect(s.scan('NPI 2043873910')[0]!.confidence).toBeGreaterThan(s.scan('x 2043873910')[0]!.confidence);
    expect(textsOf('Accession 2043873910', 'NPI')).toEqual([]);
  });
});

describe('DEA number', () => {
  it('checks the DEA check digit', () => {
    expect(textsOf('DEA AN2008820', 'DEA_NUMBER')).toEqual(['AN2008820']);
    expect(textsOf('DEA AN2008821', 'DEA_NUMBER')).toEqual([]);
    expect(textsOf('DEA QN2008820', 'DEA_NUMBER')).toEqual([]); // Q is not a registrant type
    expect(textsOf('XAN2008820', 'DEA_NUMBER')).toEqual([]);
  });
});

describe('VIN', () => {
  it('checks the position-9 check digit and the alphabet', () => {
    expect(textsOf('VIN 1HGT2LMU057A8BGBN', 'VEHICLE_ID')).toEqual(['1HGT2LMU057A8BGBN']);
    expect(textsOf('VIN 1HGT2LMU157A8BGBN', 'VEHICLE_ID')).toEqual([]);
    expect(textsOf('VIN 1HGT2LMU05IA8BGBN', 'VEHICLE_ID')).toEqual([]);
  });
});

describe('IP addresses', () => {
  it('parses IPv4 and IPv6 candidates', () => {
    expect(textsOf('from 10.24.118.7 and 2001:db8:85a3::8a2e:370:7334.', 'IP_ADDRESS')).toEqual([
      '10.24.118.7',
      '2001:db8:85a3::8a2e:370:7334',
    ]);
    expect(textsOf('::1 loopback', 'IP_ADDRESS')).toEqual(['::1']);
  });
  it('does not read a labelled version number as an address', () => {
    expect(textsOf('Version 10.2.1.4 deployed; firmware 4.1.0.22', 'IP_ADDRESS')).toEqual([]);
  });
  it('rejects out-of-range octets, versions and times', () => {
    expect(textsOf('host 256.1.1.1', 'IP_ADDRESS')).toEqual([]);
    expect(textsOf('version 2.5.1', 'IP_ADDRESS')).toEqual([]);
    expect(textsOf('at 10:30:00', 'IP_ADDRESS')).toEqual([]);
  });
});

describe('email and URL', () => {
  it('finds emails and trims sentence punctuation', () => {
    expect(textsOf('Write to jane.doe+portal@example.org.', 'EMAIL')).toEqual(['jane.doe+portal@example.org']);
    expect(textsOf('not an email: a@b', 'EMAIL')).toEqual([]);
  });
  it('finds URLs with a scheme or www., not terminology systems', () => {
    expect(textsOf('See https://example.com/a?b=1, or www.imgur.com/a/x.', 'URL')).toEqual([
      'https://example.com/a?b=1',
      'www.imgur.com/a/x',
    ]);
    expect(textsOf('"system":"http://loinc.org"', 'URL')).toEqual([]);
  });
});

describe('phone and fax', () => {
  it('finds NANP numbers in common formats', () => {
    const text = 'Call (617) 555-0143, 508-555-2291, 617.555.3382 or +1 617 555 7782.';
    expect(textsOf(text, 'PHONE')).toEqual(['(617) 555-0143', '508-555-2291', '617.555.3382', '+1 617 555 7782']);
  });
  it('requires area code and exchange starting 2-9', () => {
    expect(textsOf('Phone 117-555-0143', 'PHONE')).toEqual([]);
    expect(textsOf('Phone 617-155-0143', 'PHONE')).toEqual([]);
  });
  it('labels fax numbers by the nearest label', () => {
    expect(found('Phone: 508-555-4401   Fax: 508-555-4402')).toEqual([
      ['PHONE', '508-555-4401'],
      ['FAX', '508-555-4402'],
    ]);
    expect(found('F: 617-555-0990 T: 617-555-0991')).toEqual([
      ['FAX', '617-555-0990'],
      ['PHONE', '617-555-0991'],
    ]);
  });
  it('accepts bare 10 digits only with a phone label', () => {
    expect(textsOf('cell 6175550143', 'PHONE')).toEqual(['6175550143']);
    expect(textsOf('Order number 6175550143', 'PHONE')).toEqual([]);
  });
});

describe('dates', () => {
  it('finds the formats clinicians write', () => {
    const text = 'Seen 2024-03-15, 3/15/2024, 03-15-24, March 15, 2024, 15 Mar 2024, Mar 15 2024 and 15-Mar-2024.';
    expect(textsOf(text, 'DATE')).toEqual([
      '2024-03-15',
      '3/15/2024',
      '03-15-24',
      'March 15, 2024',
      '15 Mar 2024',
      'Mar 15 2024',
      '15-Mar-2024',
    ]);
  });
  it('reports month and year without a day, but not a year alone', () => {
    expect(textsOf('Diagnosed in March 2019; surgery in 2021.', 'DATE')).toEqual(['March 2019']);
  });
  it('checks calendar plausibility', () => {
    expect(textsOf('on 2/30/2024 and 13/01/2024 and 2023-02-29', 'DATE')).toEqual([]);
    expect(textsOf('on 2/29/2024', 'DATE')).toEqual(['2/29/2024']);
  });
  it('does not read times, ratios or ranges as dates', () => {
    expect(typesIn('BP 120/80 at 10:30, range 70-99, pain 5/10')).toEqual([]);
  });
  it('a DOB context raises confidence', () => {
    const s = createScanner();
    expect(s.scan('DOB: 04/12/1951')[0]!.confidence).toBeGreaterThan(s.scan('on 04/12/1951')[0]!.confidence);
  });
});

describe('ZIP codes', () => {
  it('finds ZIPs after a state or a ZIP label, and ZIP+4', () => {
    expect(textsOf('Boston, MA 02114. Zip: 01702. Box 02205-9201', 'ZIP_CODE')).toEqual(['02114', '01702', '02205-9201']);
  });
  it('never reads a bare 5-digit lab value as a ZIP', () => {
    expect(textsOf('Count 12345 cells; Employee ID 44810', 'ZIP_CODE')).toEqual([]);
  });
});

describe('ages over 89', () => {
  it.each(['92-year-old', '92 y/o', 'age 95', 'aged 91', '95 yo', '98 y.o.', '103 years old', 'ninety-two year old'])(
    'finds "%s"',
    (age) => {
      expect(typesIn(`Patient is a ${age} woman`)).toContain('AGE_OVER_89');
    },
  );
  it('ignores ages under 90 and numbers that are not ages', () => {
    expect(typesIn('a 67-year-old man, age 89, heart rate 91 bpm')).toEqual([]);
  });
});

describe('context-bound identifiers', () => {
  it.each([
    ['MRN: 00482913', 'MRN', '00482913'],
    ['Medical Record Number: A7730192', 'MRN', 'A7730192'],
    ['Member ID: XKJ882910344', 'HEALTH_PLAN_ID', 'XKJ882910344'],
    ['policy #: BCB-4471290', 'HEALTH_PLAN_ID', 'BCB-4471290'],
    ['Account No. 7720019382', 'ACCOUNT_NUMBER', '7720019382'],
    ['license #: S53044178812', 'LICENSE_NUMBER', 'S53044178812'],
    ['serial number: PJN402913H', 'DEVICE_ID', 'PJN402913H'],
    ['device ID 00643169001763', 'DEVICE_ID', '00643169001763'],
  ] as const)('%s', (text, type, value) => {
    expect(textsOf(text, type)).toEqual([value]);
  });
  it('reads a list of same-shaped values after one label', () => {
    expect(textsOf('Hearing aid serial numbers: 1822093341 (L), 1822093342 (R).', 'DEVICE_ID')).toEqual(['1822093341', '1822093342']);
    expect(textsOf('MRN 00482913, seen 3 times', 'MRN')).toEqual(['00482913']);
  });
  it('needs a value with digits after the label', () => {
    expect(typesIn('Take into account the policy on serial dilution 1:2')).toEqual([]);
  });
});

describe('street addresses', () => {
  it('finds street lines with units and PO boxes', () => {
    expect(textsOf('at 123 Main Street, then 45 Oak Ave Apt 4B; mail to PO Box 1187.', 'STREET_ADDRESS')).toEqual([
      '123 Main Street',
      '45 Oak Ave Apt 4B',
      'PO Box 1187',
    ]);
  });
  it('does not read measurements as addresses', () => {
    expect(typesIn('Tumor 2.3 cm at 32 weeks; take exit 15 off the highway')).toEqual([]);
  });
});

describe('person names', () => {
  it('finds names after titles, labels, salutations and sign-offs', () => {
    const text = 'Patient: Jane Doe\nDr. Smith saw Mr. John A. Smith.\nDear Linda,\nSincerely,\nKaren O\'Neil';
    expect(textsOf(text, 'PERSON_NAME')).toEqual(['Jane Doe', 'Smith', 'John A. Smith', 'Linda', "Karen O'Neil"]);
  });
  it('finds two or three name words before a credential', () => {
    expect(textsOf('Seen by the team; called to Marcy Fields RN at 14:22. Signed: Gregory A. Lamb, MD', 'PERSON_NAME')).toEqual([
      'Marcy Fields',
      'Gregory A. Lamb',
    ]);
    expect(textsOf('Follow up with Cardiology, MD office. Do not eat.', 'PERSON_NAME')).toEqual([]);
  });
  it('ignores lower-case words after titles and labels', () => {
    expect(typesIn('Dr. on call; Mr. and Mrs. were out; Patient name withheld.')).toEqual([]);
    expect(typesIn('Plan discussed with Attending Physician and Nurse Manager.')).toEqual([]);
  });
  it('uses the optional name list for capitalised words', () => {
    const s = createScanner({ names: ['Alvarez', 'maria'] });
    const text = 'Maria Gonzalez met Alvarez; maria is lower case.';
    expect(s.scan(text).map((f) => text.slice(f.start, f.end))).toEqual(['Maria Gonzalez', 'Alvarez']);
  });
});

describe('FHIR JSON', () => {
  it('reads HumanName parts, HumanName.text and person reference displays', () => {
    const json =
      '{"name":[{"family":"Ellison","given":["Margaret","Ann"]}],"contact":[{"name":[{"text":"Kevin O\'Donnell"}]}],' +
      '"subject":{"reference":"Patient/pt-1","display":"Jane Doe"},"code":{"text":"Glucose Tolerance","display":"Glucose Test"}}';
    expect(textsOf(json, 'PERSON_NAME')).toEqual(['Ellison', 'Margaret', 'Ann', "Kevin O'Donnell", 'Jane Doe']);
  });
});

describe('HL7 v2', () => {
  it('reads PID fields by position', () => {
    const text =
      'MSH|^~\\&|EPIC|MGH|LAB|MGH|20240315083000||ADT^A01|1|P|2.5\n' +
      'PID|1||00482913^^^MGH^MR||ELLISON^MARGARET^A||19510412|F|||22 GREEN ST^^BOSTON^MA^02114||(617)555-0143|||||100293847|123-45-6789';
    expect(found(text)).toEqual([
      ['MRN', '00482913'],
      ['PERSON_NAME', 'ELLISON^MARGARET^A'],
      ['DATE', '19510412'],
      ['STREET_ADDRESS', '22 GREEN ST'],
      ['ZIP_CODE', '02114'],
      ['PHONE', '(617)555-0143'],
      ['ACCOUNT_NUMBER', '100293847'],
      ['SSN', '123-45-6789'],
    ]);
  });
});
