/**
 * Writes a result or config file (`report --out`, the scheduler's reports, `dualrun add`'s
 * dualrun.yaml) so that a reader never sees half of it: a temporary file beside it, then a
 * rename. A symlink is followed (a plain file at its end is replaced there, the link kept);
 * what is not a plain file is written in place: renaming over `--out /dev/stdout` or a
 * device, FIFO or terminal replaced it with a regular file (as root, /dev/full became a
 * file), and the temporary file was left behind when the rename failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DualrunError } from './errors.ts';

// The write itself failed (no room, the disk): the same command can work later.
const IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG']);

export function writeOutputFile(file: string, text: string): void {
  // A symlink to a plain file (a config kept in a repository) is replaced at its target.
  const target = lstatOrNull(file)?.isSymbolicLink() ? realpathOrNull(file) ?? file : file;
  const existing = statOrNull(target);
  if (existing?.isDirectory()) throw new DualrunError('DUALRUN_USAGE', `cannot write ${file}: it is a folder (name a file)`);
  try {
    if ((existing && !existing.isFile()) || (target === file && lstatOrNull(file)?.isSymbolicLink())) { fs.writeFileSync(file, text); return; }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, target);
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

function statOrNull(file: string): fs.Stats | null {
  try { return fs.statSync(file); } catch { return null; }
}

function realpathOrNull(file: string): string | null {
  try { return fs.realpathSync(file); } catch { return null; }
}
