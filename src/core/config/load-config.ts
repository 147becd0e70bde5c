/**
 * Finds and reads the config: `--config PATH`, then `DUALRUN_CONFIG`, then
 * `./dualrun.yaml` (or `./dualrun.json`). `${VAR}` and `${VAR:-default}` are
 * interpolated from the environment; an unset variable without a default is an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, visit, type Alias, type Document } from 'yaml';
import { DualrunError } from '../errors.ts';
import { compileConfig } from './compile-config.ts';
import type { DualrunConfig } from './types.ts';

export interface LoadOptions {
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export function findConfigFile(opts: LoadOptions = {}): { path: string | null; tried: string[] } {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  if (opts.configPath) return { path: path.resolve(cwd, opts.configPath), tried: [`--config ${opts.configPath}`] };
  if (env.DUALRUN_CONFIG) return { path: path.resolve(cwd, env.DUALRUN_CONFIG), tried: [`DUALRUN_CONFIG=${env.DUALRUN_CONFIG}`] };
  const tried = ['./dualrun.yaml', './dualrun.yml', './dualrun.json'];
  for (const t of tried) {
    const p = path.resolve(cwd, t);
    if (fs.existsSync(p)) return { path: p, tried };
  }
  return { path: null, tried: ['--config', 'DUALRUN_CONFIG', ...tried] };
}

export function loadConfig(opts: LoadOptions = {}): DualrunConfig {
  const found = findConfigFile(opts);
  if (!found.path) {
    throw new DualrunError('DUALRUN_CONFIG_NOT_FOUND', `no config found (tried ${found.tried.join(', ')}); run \`dualrun init\` to write one`);
  }
  let text: string;
  try {
    text = fs.readFileSync(found.path, 'utf8');
  } catch (e) {
    throw new DualrunError('DUALRUN_CONFIG_NOT_FOUND', `cannot read config ${found.path}: ${(e as Error).message}`, { cause: e, details: { config: found.path } });
  }
  return compileConfig(parseConfigText(text, found.path), { path: found.path, env: opts.env ?? process.env });
}

/** Parses YAML (a superset of JSON) and reports syntax errors with file and line. */
export function parseConfigText(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0];
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : '';
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `${file}${line ? `:${line.line}:${line.col}` : ''}: ${yamlReason(e.message)} (YAML ${e.code})${line ? `, ${sourceLine(text, line.line)}${flowReferenceHint(text, line.line)}` : ''}${more}`,
      { details: { config: file, line: line?.line, column: line?.col, yaml: e.code } });
  }
  try {
    return doc.toJS();
  } catch (e) {
    // Aliases are resolved only here: `*name` with no `&name` before it, or an alias bomb.
    const at = firstAlias(doc, (a) => !a.resolve(doc)) ?? firstAlias(doc, () => true);
    const pos = at?.range ? lineCounter.linePos(at.range[0]) : undefined;
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${(e as Error).message} (YAML alias)${pos ? `, ${sourceLine(text, pos.line)}` : ''}`,
      { cause: e, details: { config: file, line: pos?.line, column: pos?.col } });
  }
}

function firstAlias(doc: Document, test: (a: Alias) => boolean): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, { Alias(_k, a) { if (test(a)) { found = a; return visit.BREAK; } return undefined; } });
  return found;
}

/**
 * The yaml library's message without its "at line L, column C:" tail: the rest of the
 * message was its code frame, which the one-line error cut, so the text ended in an
 * empty "column 1:". The position leads the message instead, and sourceLine shows the line.
 */
function yamlReason(message: string): string {
  const reason = message.split('\n')[0].replace(/ at line \d+, column \d+:?\s*$/, '');
  // The library's advice is for programmers: a config file holds one document.
  return reason.replace(/; please use YAML\.parseAllDocuments\(\)/, ' (a config file holds one; remove the `---` and what follows)');
}

/**
 * `sasl: { password: ${KAFKA_PASSWORD} }`: inside a flow collection `{` opens a map, so an unquoted
 * reference is a YAML syntax error there (in block style, `password: ${X}`, it is plain text).
 */
function flowReferenceHint(text: string, n: number): string {
  const at = text.split(/\r?\n/)[n - 1] ?? '';
  const ref = /[{[][^}\]'"]*?(\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})/.exec(at)?.[1];
  return ref ? `; inside { } or [ ] quote a reference: "${ref}"` : '';
}

/** What line `n` holds, quoted (tabs and quotes visible), or where it is when it is blank. */
function sourceLine(text: string, n: number): string {
  const lines = text.split(/\r?\n/);
  const at = lines[n - 1];
  if (at === undefined || (at.trim() === '' && lines.slice(n).every((l) => l.trim() === ''))) return 'at the end of the file';
  return at.trim() === '' ? `line ${n} is blank` : `line ${n}: ${JSON.stringify(at.length > 120 ? `${at.slice(0, 120)}…` : at)}`;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` in every string of a parsed config; errors name the config path. */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, file: string, at = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined) return v;
      if (def !== undefined) return def;
      throw new DualrunError('DUALRUN_CONFIG_INVALID', `${file}: ${at || '(root)'}: environment variable ${name} is not set (use \${${name}:-default} for a default)`, { details: { config: file, path: at } });
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, file, `${at}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, env, file, at ? `${at}.${k}` : k);
    return out;
  }
  return value;
}
