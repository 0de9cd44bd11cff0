/**
 * Context words: one pass of one case-insensitive regex over the text records where words like
 * "SSN", "Fax", "MRN", "Dr." or month names occur. Detectors then ask "is there a keyword of
 * kind K just before offset p?" by binary search, so context costs O(log n) per candidate.
 */

/** Kinds of context word. */
export const Kw = {
  Ssn: 1,
  Npi: 2,
  Dea: 3,
  Vin: 4,
  Dob: 5,
  Zip: 6,
  Phone: 7,
  Fax: 8,
  Mrn: 9,
  Plan: 10,
  Account: 11,
  License: 12,
  Device: 13,
  Age: 14,
  NameLabel: 15,
  Title: 16,
  Signoff: 17,
  Month: 18,
  Ninety: 19,
  PoBox: 20,
  Date: 21,
} as const;
/** A context-word kind. */
export type Kw = (typeof Kw)[keyof typeof Kw];

// Each alternative is a literal with optional single characters: no quantified groups, so a match
// attempt costs at most the length of the longest keyword.
const KEYWORDS = new RegExp(
  [
    String.raw`\b(?:ssn|ss ?#|social security|soc\.? ?sec|tax id)`,
    String.raw`\bnpis?\b|\bnational provider identifier`,
    String.raw`\bdea\b`,
    String.raw`\bvins?\b|\bvehicle identification number`,
    String.raw`\b(?:dob|d\.o\.b|date of birth|birth ?date|birthdate|born|birthday)\b`,
    String.raw`\b(?:zip ?code|zip|postal ?code|zip\+4)\b`,
    String.raw`\b(?:phone|ph|tel|telephone|cell|mobile|call|t(?=:)|home phone|work phone|office|contact)\b`,
    String.raw`\b(?:fax|facsimile|fx|f(?=:))\b`,
    String.raw`\b(?:mrn|mr ?#|medical record|med\.? ?rec|chart number|chart no|chart #|empi)`,
    String.raw`\b(?:member id|member number|member #|memberid|medicaid|medicare|mbi|beneficiary|subscriber|subscriberid|insurance id|insured id|policy|health plan id|plan id)`,
    String.raw`\b(?:account|acct)`,
    String.raw`\b(?:license|licence|lic|dl)\b`,
    String.raw`\b(?:device|serial|serialnumber|s\/n|udi|transmitter id)`,
    String.raw`\b(?:age|aged)\b`,
    String.raw`\b(?:patient name|patient|pt|name|client|caller|guarantor|employee|surgeon|dictated by|referring|attending|physician|provider|prescriber|proxy|to|from|re|attn|cc|daughter|son|wife|husband|mother|father|sister|brother|spouse|nurse|rn|this is|i am|my name is|dear|family|given|firstname|lastname|middlename|fullname|patientname)\b`,
    String.raw`\b(?:mr|mrs|ms|miss|mx|dr)\b`,
    String.raw`\b(?:sincerely|regards|thank you|thanks|respectfully|cordially)\b`,
    String.raw`\b(?:jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december)\b`,
    String.raw`\bninety\b`,
    String.raw`\b(?:p\.? ?o\.? ?box|post office box)\b`,
    String.raw`\b(?:birthdate|effectivedatetime|manufacturedate|date)\b`,
  ].join('|'),
  'gi',
);

const KIND_BY_KEY = new Map<string, Kw>();
function keys(kind: Kw, words: string): void {
  for (const w of words.split(',')) KIND_BY_KEY.set(w, kind);
}
keys(Kw.Ssn, 'ssn,ss#,socialsecurity,socsec,taxid');
keys(Kw.Npi, 'npi,npis,nationalprovideridentifier');
keys(Kw.Dea, 'dea');
keys(Kw.Vin, 'vin,vins,vehicleidentificationnumber');
keys(Kw.Dob, 'dob,dob.,dateofbirth,birthdate,born,birthday');
keys(Kw.Zip, 'zipcode,zip,postalcode,zip+4');
keys(Kw.Phone, 'phone,ph,tel,telephone,cell,mobile,call,t,homephone,workphone,office,contact');
keys(Kw.Fax, 'fax,facsimile,fx,f');
keys(Kw.Mrn, 'mrn,mr#,medicalrecord,medrec,chartnumber,chartno,chart#,empi');
keys(
  Kw.Plan,
  'memberid,membernumber,member#,medicaid,medicare,mbi,beneficiary,subscriber,subscriberid,insuranceid,insuredid,policy,healthplanid,planid',
);
keys(Kw.Account, 'account,acct');
keys(Kw.License, 'license,licence,lic,dl');
keys(Kw.Device, 'device,serial,serialnumber,s/n,udi,transmitterid');
keys(Kw.Age, 'age,aged');
keys(
  Kw.NameLabel,
  'patientname,patient,pt,name,client,caller,guarantor,employee,surgeon,dictatedby,referring,attending,physician,provider,prescriber,proxy,to,from,re,attn,cc,daughter,son,wife,husband,mother,father,sister,brother,spouse,nurse,rn,thisis,iam,mynameis,dear,family,given,firstname,lastname,middlename,fullname,patientname',
);
keys(Kw.Title, 'mr,mrs,ms,miss,mx,dr');
keys(Kw.Signoff, 'sincerely,regards,thankyou,thanks,respectfully,cordially');
keys(
  Kw.Month,
  'jan,january,feb,february,mar,march,apr,april,may,jun,june,jul,july,aug,august,sep,sept,september,oct,october,nov,november,dec,december',
);
keys(Kw.Ninety, 'ninety');
keys(Kw.PoBox, 'pobox,p.o.box,p.obox,po.box,postofficebox');
keys(Kw.Date, 'effectivedatetime,manufacturedate,date');

/** Keyword key: lower case without spaces (so "Social  Security" and "social security" agree). */
function keyOf(match: string): string {
  let k = '';
  for (let i = 0; i < match.length; i++) {
    const c = match.charCodeAt(i);
    if (c === 32) continue;
    k += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : match[i];
  }
  return k;
}

/** Positions of context words in one text, in order. */
export class KeywordIndex {
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly kinds: Kw[] = [];

  constructor(text: string) {
    KEYWORDS.lastIndex = 0;
    for (let m = KEYWORDS.exec(text); m !== null; m = KEYWORDS.exec(text)) {
      const word = m[0];
      let kind = KIND_BY_KEY.get(keyOf(word));
      if (kind === undefined) {
        // "p.o. box", "soc. sec." and friends: drop the dots too.
        kind = KIND_BY_KEY.get(keyOf(word).replaceAll('.', ''));
      }
      // "DL" (driver's licence) only in capitals: "mg/dL" is a unit.
      if (kind === Kw.License && word === 'dL') kind = undefined;
      if (kind !== undefined) {
        this.starts.push(m.index);
        this.ends.push(m.index + word.length);
        this.kinds.push(kind);
      }
    }
  }

  /** Index of the last keyword ending at or before `pos`, or -1. */
  private lastEndingBy(pos: number): number {
    let lo = 0;
    let hi = this.ends.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= pos) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** True when a keyword of `kind` ends within `window` characters before `pos`. */
  before(pos: number, kind: Kw, window: number): boolean {
    for (let i = this.lastEndingBy(pos); i >= 0 && this.ends[i]! >= pos - window; i--) {
      if (this.kinds[i] === kind) return true;
    }
    return false;
  }

  /** The kind of the nearest keyword among `kinds` ending within `window` before `pos`, if any. */
  nearest(pos: number, kinds: readonly Kw[], window: number): Kw | undefined {
    for (let i = this.lastEndingBy(pos); i >= 0 && this.ends[i]! >= pos - window; i--) {
      const k = this.kinds[i]!;
      if (kinds.includes(k)) return k;
    }
    return undefined;
  }
}
