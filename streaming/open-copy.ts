/**
 * A `COPY … FROM STDIN` left open across batches, so a collected transaction sends
 * all its changes in one statement: no statement (and no round trip) per batch. Its
 * error (a value Postgres refuses, with the database's own fields) is thrown by the
 * next write or by `end`; `abort` sends CopyFail so the session can roll back.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../src/core/db/connect.ts';

export class OpenCopy {
  private error: unknown = null;
  private readonly done: Promise<void>;

  private constructor(private readonly stream: Writable) {
    this.done = finished(stream).catch((e: unknown) => { this.error ??= e; });
  }

  static start(c: PoolClient, sql: string): OpenCopy {
    return new OpenCopy(c.query(copyFrom(sql)));
  }

  /** Sends COPY text; waits when the socket is full; throws once the COPY has failed. */
  async write(text: string): Promise<void> {
    if (this.error) throw this.error;
    if (!this.stream.write(text)) await Promise.race([once(this.stream, 'drain'), this.done]);
    if (this.error) throw this.error;
  }

  /** Ends the COPY: resolves when Postgres has every row, throws its error. */
  async end(): Promise<void> {
    if (!this.error) this.stream.end();
    await this.done;
    if (this.error) throw this.error;
  }

  /** Abandons the COPY (CopyFail): nothing of it is kept, and the session takes statements again. */
  async abort(): Promise<void> {
    if (!this.error) this.stream.destroy();
    await this.done;
  }
}
