/** The database's own error fields are kept when wrapping, with secrets masked as in the message. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';
import { toDualrunError } from '../../../src/core/errors.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase('dberrsec'); });
afterAll(async () => { await db?.drop(); });

describe('database error fields', () => {
  it('a connection string quoted in a unique-violation detail keeps no password (the detail was copied raw into JSON errors)', async () => {
    await db.pool.query('CREATE TABLE sources (dsn text PRIMARY KEY)');
    const dsn = 'postgres://etl:DetailSecret-31@dw.internal:5432/dw';
    await db.pool.query('INSERT INTO sources VALUES ($1)', [dsn]);
    const e = await db.pool.query('INSERT INTO sources VALUES ($1)', [dsn]).then(() => null, (x: unknown) => x);
    const err = toDualrunError(e);
    expect(err.db?.code).toBe('23505');
    expect(err.db?.detail).toContain('postgres://etl:***@dw.internal:5432/dw');
    expect(JSON.stringify(err.toJSON())).not.toContain('DetailSecret-31');
  });
});
