/**
 * Adds a dataset entry to dualrun.yaml without disturbing the rest of the file.
 * The `yaml` Document API locates the `datasets` map; a new entry is rendered on
 * its own and inserted as text after the last dataset, so every existing line,
 * comment and alignment stays byte for byte. Replacing an entry (--force) goes
 * through the Document API (comments kept, spacing normalised).
 */
import { Document, isMap, isScalar, Pair, parseDocument, Scalar, YAMLMap, type Node as YamlNode } from 'yaml';
import { DualrunError } from '../errors.ts';

const NEW_FILE = `# dualrun.yaml — one entry per dataset moving from the legacy batch job to streaming.
# Reference: docs/config-reference.md. \${VAR} and \${VAR:-default} are read from the environment.

database:
  # Leave \`url\` empty to run an embedded Postgres under .dualrun/ (data kept between runs).
  url: \${DATABASE_URL:-}

datasets:
`;

export interface DatasetEntry { name: string; entry: Record<string, unknown>; comments: Record<string, string>; heading: string }

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new DualrunError('DUALRUN_CONFIG_INVALID', `${file}: ${doc.errors[0].message.split('\n')[0]}`, { details: { config: file } });
  return doc;
}

export function hasDataset(text: string | null, name: string, file: string): boolean {
  return text !== null && parse(text, file).hasIn(['datasets', name]);
}

/** The config text with the dataset added (or replaced). */
export function withDataset(text: string | null, d: DatasetEntry, file: string): string {
  const source = text ?? NEW_FILE;
  const doc = parse(source, file);
  const datasets = doc.get('datasets', true) as YamlNode | undefined;
  if (doc.hasIn(['datasets', d.name]) || (datasets && !isMap(datasets))) return replaced(doc, d);
  if (!datasets || (isMap(datasets) && datasets.items.length === 0 && datasets.flow)) {
    // `datasets: {}` or no datasets key: a block map of one entry, written where the old value was.
    const block = `\n${indent(renderEntry(d), 2)}`;
    if (!datasets) return `${source.replace(/\n*$/, '\n')}datasets:${block}`;
    const [start, end] = datasets.range!;
    return `${source.slice(0, start).replace(/[ \t]+$/, '')}${block.trimEnd()}\n${source.slice(end).replace(/^[ \t]*\n?/, '')}`;
  }
  const map = datasets as YAMLMap;
  if (map.items.length === 0) return `${source.replace(/\n*$/, '\n')}${indent(renderEntry(d), 2)}`;
  const firstKey = map.items[0].key as YamlNode;
  const col = firstKey.range![0] - source.lastIndexOf('\n', firstKey.range![0] - 1) - 1;
  // After the line holding the end of the last dataset's value (its trailing comment included).
  const lineEnd = source.indexOf('\n', map.range![1] - 1);
  const at = lineEnd === -1 ? source.length : lineEnd + 1;
  const before = source.slice(0, at);
  return `${before}${before.endsWith('\n') ? '' : '\n'}\n${indent(renderEntry(d), col)}${source.slice(at)}`;
}

function replaced(doc: Document, d: DatasetEntry): string {
  if (!isMap(doc.get('datasets', true))) doc.set('datasets', new YAMLMap());
  const map = doc.get('datasets', true) as YAMLMap;
  map.flow = false;
  const node = entryNode(doc, d);
  const pair = map.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === d.name);
  if (pair) pair.value = node;
  else map.items.push(headed(d, node));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function renderEntry(d: DatasetEntry): string {
  const doc = new Document(new YAMLMap());
  (doc.contents as YAMLMap).items.push(headed(d, entryNode(doc, d)));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function headed(d: DatasetEntry, node: YAMLMap): Pair {
  const key = new Scalar(d.name);
  key.commentBefore = ` ${d.heading}`;
  return new Pair(key, node);
}

function entryNode(doc: Document, d: DatasetEntry): YAMLMap {
  const node = doc.createNode(d.entry) as YAMLMap;
  for (const [p, text] of Object.entries(d.comments)) {
    const target = node.getIn(p.split('.'), true) as YamlNode | undefined;
    if (target) target.comment = ` ${text}`;
  }
  // Short lists and maps of scalars read best on one line, as in the examples.
  for (const p of ['key', 'window', 'stream.source']) {
    const n = node.getIn(p.split('.'), true) as { flow?: boolean } | undefined;
    if (n && typeof n === 'object') n.flow = true;
  }
  // Cron expressions quoted, as people write them.
  for (const p of ['batch.schedule', 'reconcile.schedule']) {
    const n = node.getIn(p.split('.'), true);
    if (isScalar(n)) n.type = 'QUOTE_DOUBLE';
  }
  return node;
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text.split('\n').map((l) => (l ? pad + l : l)).join('\n');
}
