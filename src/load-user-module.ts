/**
 * Loads a user's module (transform, ...) by path and returns its default export.
 * The CLI runs under tsx, so .ts works as well as .js. A .ts file outside a
 * `"type": "module"` package is CommonJS to Node, and Node 20 refuses to require()
 * it through tsx's ESM hook; tsx's own tsImport loads it (its CommonJS namespace
 * nests the default export once more).
 */
import { pathToFileURL } from 'node:url';

export async function importDefaultExport(file: string): Promise<unknown> {
  try {
    return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (e) {
    if (!/require\(\)|ERR_REQUIRE/.test(`${(e as Error).message} ${(e as { code?: string }).code ?? ''}`)) throw e;
    const { tsImport } = await import('tsx/esm/api');
    const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: { default?: unknown } | unknown };
    const d = mod.default as { default?: unknown } | undefined;
    return typeof d === 'function' ? d : d?.default;
  }
}
