/**
 * A YAML syntax error in dualrun.yaml ended with an empty context:
 * `dualrun.yaml:3:1: All mapping items must start at the same column at line 3, column 1:`
 * (the yaml library's code frame followed the colon, and the one-line error cut it). The
 * message now names the file, line and column, what was wrong (with yaml's code), and what
 * that line holds, and never ends in a dangling colon. An alias to no anchor (`*nope`) was
 * DUALRUN_INTERNAL with exit 3; it is a config error like the others. CLI cases through the real binary, and
 * a fast-check property over broken documents.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.ts';
import { parseConfigText } from '../../../src/core/config/load-config.ts';
import { DualrunError } from '../../../src/core/errors.ts';

function configFile(name: string, text: string): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-yaml-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return { dir, file };
}

const cases: Array<[string, string, string, RegExp]> = [
  ['bad indent', 'dualrun.yaml', 'database:\n  url: postgres://x/y\n datasets: {}\n', /dualrun\.yaml:3:1: All mapping items must start at the same column \(YAML BAD_INDENT\), line 3: " datasets: \{\}"$/],
  ['duplicate key', 'dualrun.yaml', 'datasets: {}\ndatasets: {}\n', /dualrun\.yaml:2:1: Map keys must be unique \(YAML DUPLICATE_KEY\), line 2: "datasets: \{\}"$/],
  ['tab indent', 'dualrun.yaml', 'database:\n\turl: x\n', /dualrun\.yaml:2:1: Tabs are not allowed as indentation \(YAML TAB_AS_INDENT\), line 2: "\\turl: x"$/],
  ['unclosed quote', 'dualrun.yaml', 'database:\n  url: "postgres://x\ndatasets: {}\n', /dualrun\.yaml:\d+:\d+: Missing closing "quote \(YAML MISSING_CHAR\), at the end of the file$/],
  // Aliases resolve after parsing: this one was DUALRUN_INTERNAL, exit 3.
  ['an alias to no anchor', 'dualrun.yaml', 'database: *nope\ndatasets: {}\n', /dualrun\.yaml:1:11: Unresolved alias \(the anchor must be set before the alias\): nope \(YAML alias\), line 1: "database: \*nope"$/],
  // The library's advice ("please use YAML.parseAllDocuments()") was for programmers.
  ['two documents', 'dualrun.yaml', 'datasets: {}\n---\nb: 2\n', /dualrun\.yaml:2:1: Source contains multiple documents \(a config file holds one; remove the `---` and what follows\) \(YAML MULTIPLE_DOCS\), line 2: "---"$/],
  // A list or a bare string as the whole document was ": expected object", naming nothing.
  ['a list as the document', 'dualrun.yaml', '- a\n- b\n', /invalid config .*dualrun\.yaml: \(root\): expected object$/],
  ['JSON with a stray comma', 'dualrun.json', '{"database": {,}}', /dualrun\.json:1:15: Unexpected , in flow map \(YAML UNEXPECTED_TOKEN\), line 1: "\{\\"database\\": \{,\}\}"$/],
];

describe('YAML syntax errors name the file, line, column, the problem and the line', () => {
  for (const [what, name, text, want] of cases) {
    it(what, async () => {
      const { dir, file } = configFile(name, text);
      const r = await runCli(['--config', file, 'datasets'], { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      const line = r.stderr.trim();
      expect(line.split('\n')).toHaveLength(1);
      expect(line.startsWith(`dualrun: DUALRUN_CONFIG_INVALID: ${file}:`) || line.startsWith(`dualrun: DUALRUN_CONFIG_INVALID: invalid config ${file}:`)).toBe(true);
      expect(line).toMatch(want);
    });
  }

  it('property: whatever is broken, the message names file:line:col, a reason and a place, never a dangling colon', () => {
    const piece = fc.constantFrom('a: 1', 'a:', '  b: 2', ' c: [', '\td: 1', '"e', "'f", '{g: }', '- h', 'i: {', ']', '&x j: *y', '? k', 'l: m: n', '', '#c', '%YAML 9', '---');
    fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }), (lines) => {
      const text = `${lines.join('\n')}\n`;
      let err: unknown;
      try { parseConfigText(text, '/cfg/dualrun.yaml'); } catch (e) { err = e; }
      if (err === undefined) return;
      expect(err).toBeInstanceOf(DualrunError);
      const m = (err as DualrunError).message;
      expect(m).toMatch(/^\/cfg\/dualrun\.yaml:\d+:\d+: \S.* \(YAML [A-Za-z_]+\), (line \d+: ".*"|line \d+ is blank|at the end of the file)( \(and \d+ more\))?$/s);
      expect(m).not.toMatch(/:\s*$/);
      expect(m).not.toContain('\n');
    }), { numRuns: 300 });
  });
});
