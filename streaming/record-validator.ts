/** Per-dataset JSON Schema validation of incoming row images (ajv, compiled once). */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { DualrunError } from '../src/core/errors.ts';
import type { JsonRow } from './change-event.ts';

export type RowValidator = (row: JsonRow) => string | null;

/** ajv-formats (CommonJS), loaded only for a dataset with a schema: every stream start paid ~17 ms for it. */
function addFormats(ajv: Ajv): void {
  const mod = createRequire(import.meta.url)('ajv-formats') as { default?: (a: Ajv) => Ajv } & ((a: Ajv) => Ajv);
  (mod.default ?? mod)(ajv);
}

/** Returns a validator giving null for a valid row, else a readable reason. */
export function loadValidator(schemaPath: string | null): RowValidator {
  if (!schemaPath) return () => null;
  let schema: unknown;
  try {
    schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `stream.schema ${schemaPath}: ${(e as Error).message}`, { cause: e });
  }
  const ajv = new Ajv({ allErrors: false, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema as object);
  return (row) => {
    if (validate(row)) return null;
    const e = validate.errors?.[0];
    return e ? `schema: ${e.instancePath || '(row)'} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}` : 'schema: invalid';
  };
}
