/** Per-dataset JSON Schema validation (record-validator.ts): pure logic, a schema file on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadValidator } from '../../streaming/record-validator.ts';

describe('row validator', () => {
  it('checks formats (ajv-formats, loaded only when a schema is configured) and names the failing field', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dr-schema-')), 'schema.json');
    fs.writeFileSync(file, JSON.stringify({ type: 'object', properties: { mail: { type: 'string', format: 'email' }, day: { type: 'string', format: 'date' } } }));
    const validate = loadValidator(file);
    expect(validate({ mail: 'a@example.com', day: '2026-12-01' })).toBeNull();
    expect(validate({ mail: 'not an address' })).toBe('schema: /mail must match format "email"');
    expect(validate({ day: '2026-02-30' })).toBe('schema: /day must match format "date"');
    expect(loadValidator(null)({ anything: 1 })).toBeNull();
  });
});
