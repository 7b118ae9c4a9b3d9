// Bundles each entry point into dist/ with ncc. Both bundles are committed: the action runs
// dist/index.js as is, and the `kugetsu` bin points at dist/cli/index.js.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const entries = [
  { src: 'src/index.ts', out: 'dist' },
  { src: 'src/cli.ts', out: 'dist/cli', shebang: true }
]

rmSync('dist', { recursive: true, force: true })
for (const entry of entries) {
  if (!existsSync(entry.src)) throw new Error(`missing entry point ${entry.src}`)
  execFileSync(
    process.execPath,
    ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', entry.src, '-o', entry.out, '--license', 'licenses.txt', '-q'],
    { stdio: 'inherit' }
  )
  const file = `${entry.out}/index.js`
  if (entry.shebang) {
    const code = readFileSync(file, 'utf8')
    if (!code.startsWith('#!')) writeFileSync(file, `#!/usr/bin/env node\n${code}`)
    chmodSync(file, 0o755)
  }
}
