/**
 * opencode's package install made a no-op in config dirs that do not need it, for one turn: the
 * runner's own global config dir when the agent runs as the runner (`sandbox: off`), and a
 * repository's `.opencode/` dirs (agents and commands need no packages). Dirs with plugins, tools
 * or packages of their own are left to opencode's real install.
 */
import * as core from '@actions/core'
import { lstat, mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { configDirSeed } from './fresh-home.js'

/** What makes a config dir need opencode's package install: code or packages of its own. */
const NEEDS_PACKAGES = new Set([
  'package.json',
  'package-lock.json',
  'node_modules',
  'plugin',
  'plugins',
  'tool',
  'tools'
])

const isDir = (path: string) =>
  lstat(path).then(
    (stat) => stat.isDirectory(),
    () => false
  )

/**
 * The `.opencode` dirs opencode reads for a project in `cwd`: in `cwd` and each dir above it up to
 * `root` (the checkout). A checkout is anyone's content, so the walk stops at a symbolic link: a
 * seed is never written through one.
 */
export async function projectConfigDirs(root: string, cwd: string): Promise<string[]> {
  const below = relative(root, cwd)
  if (below.startsWith('..') || below.startsWith(sep)) return []
  const chain = [root]
  for (const part of below.split(sep).filter(Boolean)) chain.push(join(chain.at(-1)!, part))
  const dirs: string[] = []
  for (const dir of chain) {
    if (!(await isDir(dir))) break
    const candidate = join(dir, '.opencode')
    if (await isDir(candidate)) dirs.push(candidate)
  }
  return dirs.reverse()
}

/**
 * Seeds `dir` for the turn when nothing in it needs packages: absent (made only with `create`),
 * or holding only config, agents, commands or what opencode makes on its own (such as the
 * `opencode.jsonc` a version probe leaves in a new home). Returns the undo, which takes away
 * what the seed put there when it is still as it was, so the dir ends the turn as it began it.
 */
export async function seedUnusedConfigDir(
  dir: string,
  version: string,
  { create }: { create: boolean }
): Promise<() => Promise<void>> {
  const nothing = async () => undefined
  const stat = await lstat(dir).catch(() => undefined)
  if (
    stat
      ? !stat.isDirectory()
      : !create || (await lstat(dirname(dir)).catch(() => undefined))?.isSymbolicLink()
  ) {
    return nothing
  }
  const present = stat ? await readdir(dir) : []
  if (present.some((name) => NEEDS_PACKAGES.has(name))) return nothing
  const made = stat ? undefined : await mkdir(dir, { recursive: true, mode: 0o755 })
  const seed = configDirSeed(version)
  for (const sub of seed.dirs) await mkdir(join(dir, sub), { mode: 0o755 })
  // `wx`: never through a link someone put there since the listing
  for (const file of seed.files) {
    await writeFile(join(dir, file.path), file.content, { mode: 0o644, flag: 'wx' })
  }
  return async () => {
    const kept: string[] = []
    for (const file of seed.files) {
      if (!(await removeIfUnchanged(join(dir, file.path), file.content))) kept.push(file.path)
    }
    for (const sub of [...seed.dirs].reverse()) {
      // only while still empty: opencode installed into it after all, or the agent wrote there
      await rmdir(join(dir, sub)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') kept.push(sub)
      })
    }
    if (made !== undefined && kept.length === 0) {
      await rm(made, { recursive: true, force: true })
    } else if (kept.length) {
      core.info(`left ${kept.join(', ')} in ${dir}: changed during the turn`)
    }
  }
}

/**
 * Removes the file kugetsu wrote at `path` when it is still a regular file with `content`: false
 * when it is something else now (the agent may have swapped in anything), true when gone.
 */
export async function removeIfUnchanged(path: string, content: string): Promise<boolean> {
  const now = await lstat(path).catch(() => undefined)
  if (!now) return true
  // read only a regular file of the seed's size
  const same =
    now.isFile() &&
    now.size === Buffer.byteLength(content) &&
    (await readFile(path, 'utf8')) === content
  if (same) await rm(path, { force: true })
  return same
}

/** Seeds every dir of `dirs` that may be; one undo for all of them. */
export async function seedUnusedConfigDirs(
  dirs: { dir: string; create: boolean }[],
  version: string
): Promise<() => Promise<void>> {
  const undos: (() => Promise<void>)[] = []
  try {
    for (const { dir, create } of dirs)
      undos.push(await seedUnusedConfigDir(dir, version, { create }))
  } catch (error) {
    // a dir that cannot be seeded costs a fetch, not the turn
    core.info(
      `could not prepare opencode's config dirs: ${error instanceof Error ? error.message : String(error)}`
    )
  }
  return async () => {
    for (const undo of undos.reverse()) await undo()
  }
}
