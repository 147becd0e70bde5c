/**
 * Writes a result file (`report --out`, the scheduler's reports) so that a reader
 * never sees half of it: a temporary file beside it, then a rename. A path that is
 * not a plain file is written in place: renaming over `--out /dev/stdout` (a symlink)
 * or a device, FIFO or terminal replaced it with a regular file (as root, /dev/full
 * became a file), and left the temporary file behind when the rename failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DualrunError } from './errors.ts';

// The write itself failed (no room, the disk): the same command can work later.
const IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG']);

export function writeOutputFile(file: string, text: string): void {
  const existing = lstatOrNull(file);
  if (existing?.isDirectory()) throw new DualrunError('DUALRUN_USAGE', `cannot write ${file}: it is a folder (name a file)`);
  try {
    if (existing && !existing.isFile()) { fs.writeFileSync(file, text); return; }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Anything else (a folder missing in a path under a file, no permission) is the path given.
    const code = IO_CODES.has(err.code ?? '') ? 'DUALRUN_OUTPUT_FAILED' : 'DUALRUN_USAGE';
    throw new DualrunError(code, `cannot write ${file}: ${err.message}`, { cause: e, details: { file } });
  }
}

function lstatOrNull(file: string): fs.Stats | null {
  try { return fs.lstatSync(file); } catch { return null; }
}
