// Bundles each entry point into dist/ with ncc. The bundles are committed: the action runs
// dist/index.js and its post step dist/post/index.js as they are, and the `kugetsu` bin points at
// dist/cli/index.js. The bundles are built in a staging dir and swapped in at the end, so a test
// running dist/ never sees half of it. dist/.source-hash records what they were built from, so the
// end-to-end tests can refuse a stale dist/.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { SOURCE_HASH_FILE, sourceHash } from './source-hash.mjs'

const entries = [
  { src: 'src/index.ts', out: '' },
  { src: 'src/post-index.ts', out: 'post' },
  { src: 'src/cli.ts', out: 'cli', shebang: true },
  // Run by the `tar` wrapper the action puts on PATH while it restores a cache entry.
  { src: 'src/tar-guard-index.ts', out: 'tar-guard' }
]

// Hashed before building: a source edited during the build leaves dist/ marked stale, not fresh.
const hash = sourceHash('.')
const staging = `.tmp/dist-${process.pid}`
rmSync(staging, { recursive: true, force: true })
mkdirSync('.tmp', { recursive: true })
for (const entry of entries) {
  if (!existsSync(entry.src)) throw new Error(`missing entry point ${entry.src}`)
  const out = entry.out ? `${staging}/${entry.out}` : staging
  execFileSync(
    process.execPath,
    [
      'node_modules/@vercel/ncc/dist/ncc/cli.js',
      'build',
      entry.src,
      '-o',
      out,
      '--license',
      'licenses.txt',
      '-q'
    ],
    { stdio: 'inherit' }
  )
  const file = `${out}/index.js`
  if (entry.shebang) {
    const code = readFileSync(file, 'utf8')
    if (!code.startsWith('#!')) writeFileSync(file, `#!/usr/bin/env node\n${code}`)
    chmodSync(file, 0o755)
  }
}
writeFileSync(`${staging}/${SOURCE_HASH_FILE}`, `${hash}\n`)
const old = `.tmp/dist-old-${process.pid}`
if (existsSync('dist')) renameSync('dist', old)
renameSync(staging, 'dist')
rmSync(old, { recursive: true, force: true })
