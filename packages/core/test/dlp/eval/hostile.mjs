/** 1 MB hostile inputs, one or more per detector family, for the linear-time tests and the eval report. */

/** `unit` repeated to exactly `size` UTF-16 units. */
export const fill = (unit, size) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Named hostile inputs of `size` characters. */
export function hostileInputs(size) {
  return {
    'digits': '1'.repeat(size),
    'digit-dash': fill('1-', size),
    'digit-dot': fill('1.', size),
    'digit-space': fill('1 ', size),
    'digit-slash': fill('1/', size),
    'ssn-groups': fill('123-45-', size),
    'ipv4-dots': fill('1.1.1.', size),
    'card-groups': fill('4111 ', size),
    'phone-parens': fill('(617) ', size),
    'at-signs': fill('a@', size),
    'at-dots': fill('a@a.', size),
    'long-local': 'a'.repeat(size - 1) + '@',
    'url-dots': 'http://' + fill('a.', size - 7),
    'url-schemes': fill('http://', size),
    'www': fill('www.', size),
    'colons': fill(':', size),
    'hex-colons': fill('a:', size),
    'titles': fill('Dr. ', size),
    'titles-names': fill('Dr. Aa ', size),
    'labels': fill('Patient: ', size),
    'letters-bang': 'x'.repeat(size - 1) + '!',
    'capitalised': fill('Aaaa ', size),
    'mrn-labels': fill('MRN ', size),
    'mrn-values': fill('MRN A-', size),
    'hl7-segments': fill('\nPID|', size),
    'hl7-fields': '\nPID|' + '|'.repeat(size - 5),
    'months': fill('March ', size),
    'numbers': fill('12 ', size),
    'streets': fill('1 Aa ', size),
    'zero-width': fill('1\u200b', size),
    'fullwidth': fill('\uff11', size),
    'ninety': fill('ninety ', size),
    'serial': fill('serial ', size),
    'dash-names': fill('- Aa ', size),
    'vin-like': fill('1HGT2LMU057A8BGB ', size),
    'json-text': fill('"name":[{"text":"Aa Bb"', size),
    'json-display': fill('"reference":"Patient/1","display":"Aa"', size),
    'json-given': fill('"given":["Aa","Bb",', size),
    'json-given-open': '"given":["Aa' + 'a'.repeat(size - 12),
    'id-lists': fill('MRN 12345 (', size),
    'url-parens': fill('http://a.b) ', size),
    'email-trim': fill('a@b.c- ', size),
  };
}
