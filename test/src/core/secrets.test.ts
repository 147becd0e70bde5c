import { describe, expect, it } from 'vitest';
import { redactUrl, registerSecret, scrubDeep, scrubSecrets } from '../../../src/core/secrets.ts';

describe('secrets', () => {
  it('masks passwords in connection strings and key=value pairs', () => {
    expect(scrubSecrets('connect postgres://etl:s3cr3t@db:5432/dw failed')).toBe('connect postgres://etl:***@db:5432/dw failed');
    expect(scrubSecrets('host=db password=hunter2 user=x')).toBe('host=db password=*** user=x');
    expect(redactUrl('postgresql://a:b%40c@h/d')).toBe('postgresql://a:***@h/d');
  });
  it('masks registered secrets wherever they appear, and password-named fields', () => {
    registerSecret('kafka-pass-123');
    expect(scrubSecrets('auth failed for kafka-pass-123')).toBe('auth failed for ***');
    expect(scrubDeep({ sasl: { password: 'x' }, msg: 'kafka-pass-123' })).toEqual({ sasl: { password: '***' }, msg: '***' });
  });
});
