/**
 * A repository's `.opencode/` dirs whose plugins or custom tools need only `@opencode-ai/plugin`:
 * lent the pinned tree for the turn, so opencode's own install is a no-op and their import works.
 */
import * as core from '@actions/core'
import { lstat, readFile, readdir, readlink, symlink, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { removeIfUnchanged } from './config-dir-seed.js'
import { configDirSeed } from './fresh-home.js'
import { PLUGIN_PACKAGE } from './plugin-tree.js'

/** What holds code that imports the plugin package. */
const CODE_DIRS = ['plugin', 'plugins', 'tool', 'tools']

const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies'
]

/**
 * Whether a `package.json`'s text asks for no package but the plugin package (at any version:
 * opencode would install its own version over it anyway). Anything it cannot read is a no.
 */
export function asksOnlyForPlugin(text: string): boolean {
  let manifest: unknown
  try {
    manifest = JSON.parse(text)
  } catch {
    return false
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) return false
  for (const field of DEPENDENCY_FIELDS) {
    const value = (manifest as Record<string, unknown>)[field]
    if (value === undefined) continue
    if (!value || typeof value !== 'object' || Array.isArray(value)) return false
    if (Object.keys(value).some((name) => name !== PLUGIN_PACKAGE)) return false
  }
  return true
}

/**
 * Whether `dir` (a `.opencode` dir found without following links) needs the plugin package and
 * nothing else: plugins or tools, no `node_modules` or lock of its own, and no `package.json`
 * naming other packages (those stay with opencode's install, which resolves them all together).
 */
export async function needsOnlyPluginPackage(dir: string): Promise<boolean> {
  const stat = await lstat(dir).catch(() => undefined)
  if (!stat?.isDirectory()) return false
  const present = new Set(await readdir(dir))
  if (!CODE_DIRS.some((name) => present.has(name))) return false
  if (present.has('node_modules') || present.has('package-lock.json')) return false
  if (!present.has('package.json')) return true
  const manifest = await lstat(join(dir, 'package.json'))
  // a link or a huge file is not a manifest kugetsu reads
  if (!manifest.isFile() || manifest.size > 64 * 1024) return false
  return asksOnlyForPlugin(await readFile(join(dir, 'package.json'), 'utf8'))
}

/**
 * Lends each of `dirs` the kept tree for the turn: `node_modules` as a symbolic link to the
 * tree's (read-only to the agent when it has a user of its own) and the lock that tells opencode
 * it is installed. Neither is ever made through a link (`symlink` and `wx` fail on anything
 * there). Returns the undo, which takes away what is still as it was lent.
 */
export async function lendPluginTree(
  dirs: string[],
  tree: string,
  version: string
): Promise<() => Promise<void>> {
  const target = join(tree, 'node_modules')
  const lock = configDirSeed(version).files.find((file) => file.path === 'package-lock.json')!
  const lent: { dir: string; link: boolean; lock: boolean }[] = []
  for (const dir of dirs) {
    const made = { dir, link: false, lock: false }
    try {
      await symlink(target, join(dir, 'node_modules'), 'dir')
      made.link = true
      lent.push(made)
      await writeFile(join(dir, lock.path), lock.content, { mode: 0o644, flag: 'wx' })
      made.lock = true
    } catch (error) {
      // a dir that cannot be lent the tree costs a fetch, not the turn
      core.info(`could not lend ${dir} the plugin package: ${(error as Error).message}`)
    }
  }
  return async () => {
    for (const { dir, link, lock: wrote } of lent.reverse()) {
      const kept: string[] = []
      if (wrote && !(await removeIfUnchanged(join(dir, lock.path), lock.content))) {
        kept.push(lock.path)
      }
      if (link) {
        const path = join(dir, 'node_modules')
        const now = await lstat(path).catch(() => undefined)
        if (now?.isSymbolicLink() && (await readlink(path)) === target) await unlink(path)
        else if (now) kept.push('node_modules')
      }
      if (kept.length) core.info(`left ${kept.join(', ')} in ${dir}: changed during the turn`)
    }
  }
}
