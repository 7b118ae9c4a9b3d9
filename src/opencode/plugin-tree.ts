/**
 * The package tree of `@opencode-ai/plugin` that a repository's custom tools and plugins import:
 * what a kept one must look like, and installing one with npm.
 */
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { npmFailure, runNpm, type NpmOptions } from './package-tarball.js'

export const PLUGIN_PACKAGE = '@opencode-ai/plugin'

/** The kept tree's place under a tool dir: `<toolDir>/opencode-plugin/<version>`. */
export function pluginTreeDir(toolDir: string, version: string): string {
  return join(toolDir, 'opencode-plugin', version)
}

/** npm's arguments for the pinned install: the exact version, no install scripts, no reports. */
export function pluginInstallArgs(version: string): string[] {
  return [
    'install',
    `${PLUGIN_PACKAGE}@${version}`,
    '--save-exact',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-bin-links',
    '--loglevel=error'
  ]
}

const readJson = (file: string): Promise<unknown> =>
  readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    () => undefined
  )

const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}

/**
 * Why `dir` is not a tree of the plugin package at `version` (undefined when it is one): a real
 * `node_modules` dir holding the package at that version, and a lock whose root depends on it and
 * nothing else. It says nothing of the other files: a kept tree is only ever run as the agent,
 * imported by the repository's own code, which has the same reach.
 */
export async function pluginTreeProblem(dir: string, version: string): Promise<string | undefined> {
  const modules = await lstat(join(dir, 'node_modules')).catch(() => undefined)
  if (!modules?.isDirectory()) return 'it has no node_modules dir'
  const lock = record(await readJson(join(dir, 'package-lock.json')))
  const root = record(record(lock.packages)[''])
  const dependencies = record(root.dependencies)
  if (
    Object.keys(dependencies).join() !== PLUGIN_PACKAGE ||
    dependencies[PLUGIN_PACKAGE] !== version
  ) {
    return `its package-lock.json does not pin ${PLUGIN_PACKAGE} ${version} alone`
  }
  const manifest = record(
    await readJson(join(dir, 'node_modules', ...PLUGIN_PACKAGE.split('/'), 'package.json'))
  )
  if (manifest.name !== PLUGIN_PACKAGE || manifest.version !== version) {
    return `its node_modules holds no ${PLUGIN_PACKAGE} ${version}`
  }
  return undefined
}

/**
 * Installs the tree into `dir` with npm (the runner's registry settings apply), in a dir of its
 * own beside it first, so `dir` is either the whole tree or absent. Throws with npm's last error
 * line when it fails.
 */
export async function installPluginTree(
  dir: string,
  version: string,
  npm: NpmOptions
): Promise<void> {
  const staging = `${dir}.tmp-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging, { recursive: true })
  try {
    const manifest = { name: 'kugetsu-opencode-plugin', version: '0.0.0', private: true }
    await writeFile(join(staging, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
    const output = await runNpm(pluginInstallArgs(version), { ...npm, cwd: staging })
    const failure = npmFailure(output, npm)
    if (failure) throw new Error(failure)
    const problem = await pluginTreeProblem(staging, version)
    if (problem) throw new Error(`npm's install is not usable: ${problem}`)
    await rm(dir, { recursive: true, force: true })
    await rename(staging, dir)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}
