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
    makeFolders(path.dirname(target));
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    try {
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, target);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    throw pathError(file, e);
  }
}

/**
 * A file the user's path names, written in place (`init`'s and `add`'s scaffold files): its
 * folders made, and a failure as `writeOutputFile`'s (exit 2 for the path, 3 for the disk).
 */
export function writeUserFile(file: string, write: (file: string) => void): void {
  try {
    makeFolders(path.dirname(file));
    write(file);
  } catch (e) {
    throw pathError(file, e);
  }
}

/**
 * `mkdir -p` one level at a time. Node's `mkdirSync(recursive)` never returns under /proc
 * (`--out /proc/nope/x`: 90% CPU, and SIGTERM cannot interrupt a synchronous loop).
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); lstatOrNull(d) === null; d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try { fs.mkdirSync(d); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  }
}

function pathError(file: string, e: unknown): DualrunError {
  if (e instanceof DualrunError) return e;
  const err = e as NodeJS.ErrnoException;
  // Anything else (a folder missing in a path under a file, no permission) is the path given.
  const code = IO_CODES.has(err.code ?? '') ? 'DUALRUN_OUTPUT_FAILED' : 'DUALRUN_USAGE';
  return new DualrunError(code, `cannot write ${file}: ${err.message}`, { cause: e, details: { file } });
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
