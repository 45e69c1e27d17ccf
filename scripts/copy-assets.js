// Copies the non-TypeScript files the service reads at run time (Lua scripts) next to the compiled code.
const fs = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..');
for (const dir of ['src/windows/lua', 'src/enforce/lua']) {
  const from = path.join(root, dir);
  if (!fs.existsSync(from)) continue;
  fs.cpSync(from, path.join(root, 'dist', dir), { recursive: true });
}
