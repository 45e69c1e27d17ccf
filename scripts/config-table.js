// Prints every setting (from src/config/schema.ts, compiled) as a Markdown table: path, default, env var, meaning.
// usage: npm run build && node scripts/config-table.js > docs/configuration.md
const { configSchema } = require('../dist/src/config/schema.js');
const { ENV_OVERRIDES } = require('../dist/src/config/env.js');
const env = new Map(ENV_OVERRIDES.map((o) => [o.path, o.env]));
const rows = [];
(function walk(node, path) {
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    const p = path ? `${path}.${k}` : k;
    if (v.type === 'object' && v.properties) walk(v, p);
    else rows.push([p, v]);
  }
})(configSchema, '');
const cell = (s) => String(s).replace(/\|/g, '\\|');
console.log('# Configuration\n');
console.log('Generated from `src/config/schema.ts` (the one list of settings) by `node scripts/config-table.js`.');
console.log('Sources, later wins: `config/default.json`, the JSON file named by `LOCKSTEP_CONFIG`, the environment variables below.');
console.log('A wrong value stops start-up with `invalid config: <field> ...`.\n');
console.log('| setting | default | env | meaning |');
console.log('|---|---|---|---|');
for (const [p, v] of rows) {
  const d = v.default === undefined ? '—' : '`' + cell(JSON.stringify(v.default)) + '`';
  console.log(`| \`${p}\` | ${d} | ${env.has(p) ? '`' + env.get(p) + '`' : ''} | ${cell(v.description ?? '')} |`);
}
