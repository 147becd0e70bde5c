/**
 * Loads a user's module (a transform) by path, .ts as well as .js. The CLI runs
 * compiled JavaScript; tsx's loader hooks are registered the first time a
 * TypeScript module is loaded (never at startup, which it would slow down). A .ts file outside a `"type": "module"` package is
 * CommonJS to Node, and Node 20 refuses to require() it through tsx's ESM hook;
 * tsx's own tsImport loads it, with the module's exports nested under `default`.
 * Either way the caller gets the module's own exports (`default`, named ones).
 */
import { pathToFileURL } from 'node:url';

let tsxReady: Promise<void> | undefined;

/** Registers tsx once, unless this code itself runs through tsx (from the sources). */
function ensureTsx(file: string): Promise<void> | undefined {
  if (!/\.[cm]?tsx?$/.test(file) || import.meta.url.endsWith('.ts')) return undefined;
  tsxReady ??= (async () => {
    const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    // Both hooks: a user's .ts module outside a "type": "module" package loads as CommonJS.
    register();
    registerCjs();
  })();
  return tsxReady;
}

export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  await ensureTsx(file);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    if (!/require\(\)|ERR_REQUIRE/.test(`${(e as Error).message} ${(e as { code?: string }).code ?? ''}`)) throw e;
    const { tsImport } = await import('tsx/esm/api');
    const ns = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    const inner = ns.default as Record<string, unknown> | undefined;
    // CommonJS interop: module.exports (with its own `default`) sits under `default`.
    return inner && typeof inner === 'object' && 'default' in inner ? inner : ns;
  }
}

export async function importDefaultExport(file: string): Promise<unknown> {
  const mod = await importUserModule(file);
  const d = mod.default as { default?: unknown } | undefined;
  return typeof d === 'function' ? d : d?.default;
}
