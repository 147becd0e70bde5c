/**
 * Finds and reads the config: `--config PATH`, then `DUALRUN_CONFIG`, then
 * `./dualrun.yaml` (or `./dualrun.json`). `${VAR}` and `${VAR:-default}` are
 * interpolated from the environment; an unset variable without a default is an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
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
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0];
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `${file}${line ? `:${line.line}:${line.col}` : ''}: ${e.message.split('\n')[0]}`, { details: { config: file } });
  }
  return doc.toJS();
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
