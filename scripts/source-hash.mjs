// The content hash of what the bundles in dist/ are built from. package.mjs records it in
// dist/.source-hash and the end-to-end tier recomputes it before any suite runs dist/: file
// modification times cannot tell a stale dist/ from a fresh one (a clone gives every file the same).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** The file in dist/ holding the hash of the sources it was built from. */
export const SOURCE_HASH_FILE = '.source-hash'

/** Directories whose build files are inputs, and single files that are. */
const INPUT_DIRS = ['src']
const INPUT_FILES = ['package-lock.json', 'tsconfig.json', 'scripts/package.mjs']
// Only files the build reads: editor and OS litter (.DS_Store, *.swp) in the checkout that records
// the hash would otherwise make it differ from a clean clone's.
const BUILD_FILE = /^[^.].*\.(?:[cm]?[jt]s|jsonl?)$/

function isFile(path) {
  try {
    return statSync(path).isFile()
  } catch (error) {
    if (error.code === 'ENOENT') return false
    throw error
  }
}

function walk(root, dir, out) {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) walk(root, path, out)
    else if (BUILD_FILE.test(entry.name) && isFile(join(root, path))) out.push(path)
  }
}

/** The input files under `root`, as sorted `/`-separated relative paths. */
export function sourceFiles(root) {
  const files = []
  for (const dir of INPUT_DIRS) if (existsSync(join(root, dir))) walk(root, dir, files)
  for (const file of INPUT_FILES) if (isFile(join(root, file))) files.push(file)
  // code-unit order, not the locale's: the same on every machine
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * The lockfile without its optional packages: `npm install` adds the opencode binary package of
 * the machine's platform (opencode-darwin-arm64...), which the bundles never include, and a Mac
 * must not find a dist/ built on Linux stale for it.
 */
function lockWithoutOptional(bytes) {
  let lock
  try {
    lock = JSON.parse(bytes.toString('utf8'))
  } catch {
    return bytes // hashed as it is: a broken lockfile breaks the build anyway
  }
  if (typeof lock?.packages !== 'object' || lock.packages === null) return bytes
  const packages = Object.entries(lock.packages).filter(([, entry]) => !entry?.optional)
  return Buffer.from(JSON.stringify({ ...lock, packages: Object.fromEntries(packages) }))
}

/** A file's bytes as hashed: CRLF read as LF, so a Windows checkout hashes as the committed files. */
function hashedContent(root, file) {
  // latin1 maps bytes to chars one to one: only CRLF changes, whatever the encoding
  const text = readFileSync(join(root, file), 'latin1').replace(/\r\n/g, '\n')
  const bytes = Buffer.from(text, 'latin1')
  return file === 'package-lock.json' ? lockWithoutOptional(bytes) : bytes
}

/**
 * sha256 over every input's path and content. Lengths delimit each path and content, so moving
 * bytes between them, or between files, changes the hash.
 */
export function sourceHash(root) {
  const hash = createHash('sha256')
  for (const file of sourceFiles(root)) {
    const content = hashedContent(root, file)
    const path = Buffer.from(file)
    hash.update(`${path.length}:`).update(path).update(`${content.length}:`).update(content)
  }
  return hash.digest('hex')
}

/** Throws, saying what to run, unless `root`/dist was built from the sources now in `root`. */
export function assertDistFresh(root) {
  const recordedAt = join(root, 'dist', SOURCE_HASH_FILE)
  let recorded
  try {
    recorded = readFileSync(recordedAt, 'utf8').trim()
  } catch (error) {
    if (error.code !== 'ENOENT') throw error
    throw new Error(
      `dist/ is stale: run npm run package (dist/${SOURCE_HASH_FILE} is missing, so nothing says ` +
        'which sources dist/ was built from)'
    )
  }
  // a tampered or truncated file is not echoed: it could hold anything, terminal escapes included
  if (!/^[0-9a-f]{64}$/.test(recorded)) {
    throw new Error(
      `dist/ is stale: run npm run package (dist/${SOURCE_HASH_FILE} holds no hash of the sources)`
    )
  }
  const actual = sourceHash(root)
  if (recorded !== actual) {
    throw new Error(
      `dist/ is stale: run npm run package (it was built from other sources than those in this ` +
        `checkout: dist/${SOURCE_HASH_FILE} records ${recorded}, the sources hash to ${actual})`
    )
  }
}
