/**
 * The `@opencode-ai/plugin` tree a repository's custom tools import, pinned once and kept in the
 * Actions cache next to the opencode tool, so a warm run asks no registry for it.
 */
import * as core from '@actions/core'
import { mkdir, rm } from 'node:fs/promises'
import { relative } from 'node:path'
import { errorMessage } from '../../errors.js'
import { installPluginTree, pluginTreeDir, pluginTreeProblem } from '../../opencode/plugin-tree.js'
import { CacheEntryRefused, CacheRestoreError, createActionsCacheClient } from './cache-state.js'
import { kugetsuToolDir } from './opencode-install.js'

type CacheModule = typeof import('@actions/cache')

/** The tree is some 64 MB in 3,650 files (opencode 1.18.33); room to grow, no more. */
export const PLUGIN_RESTORE_LIMITS = { maxBytes: 256 * 1024 * 1024, maxMembers: 20_000 }

/** Lowercase: Gitea's and Forgejo's cache servers lowercase keys. */
export function pluginCacheStream(version: string): string {
  return `kugetsu-opencode-plugin-${version}-${process.platform}-${process.arch}-`.toLowerCase()
}

const fallback = (version: string) =>
  `opencode installs @opencode-ai/plugin@${version} itself this run, from the registry`

/**
 * The dir holding the pinned tree (`node_modules/` and its `package-lock.json`): the runner's
 * tool cache when it has it, else the Actions cache entry (restored through the tar guard, then
 * checked), else installed once with npm and saved there. Undefined, with a warning saying what
 * happens instead, when none of that works: the tree spares requests, the turn never needs it.
 */
export async function pluginPackagesForAction(
  env: NodeJS.ProcessEnv,
  version: string,
  loadCache: () => Promise<CacheModule>
): Promise<string | undefined> {
  const toolDir = kugetsuToolDir(env)
  const dir = pluginTreeDir(toolDir, version)
  try {
    if (!(await pluginTreeProblem(dir, version))) return dir
    await mkdir(toolDir, { recursive: true })
    const started = Date.now()
    const cache = createActionsCacheClient(toolDir, loadCache, PLUGIN_RESTORE_LIMITS)
    const stream = pluginCacheStream(version)
    await rm(dir, { recursive: true, force: true })
    const restored = await cache.restore(dir, stream).catch((error: unknown) => {
      if (error instanceof CacheEntryRefused) {
        const key = error.key ?? `${stream}…`
        core.warning(
          `the Actions cache entry ${key} of @opencode-ai/plugin ${version} was refused before anything was extracted (${error.reason}); kugetsu never saves such an entry: someone who can write this repository's caches planted it. Delete it (gh cache delete ${key}); installing the package afresh`
        )
        return undefined
      }
      if (!(error instanceof CacheRestoreError)) throw error
      return undefined
    })
    if (restored) {
      const problem = await pluginTreeProblem(dir, version)
      if (!problem) {
        core.info(
          `@opencode-ai/plugin ${version} restored from ${restored} in ${Date.now() - started} ms`
        )
        return dir
      }
      core.warning(
        `the Actions cache entry ${restored} is no @opencode-ai/plugin ${version} tree (${problem}); it is not used. Delete it (gh cache delete ${restored}); installing the package afresh`
      )
      await rm(dir, { recursive: true, force: true })
    }

    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    await installPluginTree(dir, version, { npm, env })
    core.info(`@opencode-ai/plugin ${version} installed in ${Date.now() - started} ms`)
    const key = `${stream}${env.GITHUB_RUN_ID || '0'}-${env.GITHUB_RUN_ATTEMPT || '1'}`
    await cache
      .save(dir, key.toLowerCase())
      .catch((error: unknown) =>
        core.warning(
          `could not cache @opencode-ai/plugin ${version} (${relative(toolDir, dir)}): ${errorMessage(error)}`
        )
      )
    return dir
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined)
    core.warning(
      `could not pin @opencode-ai/plugin ${version} for the repository's opencode tools (${errorMessage(error)}): ${fallback(version)}`
    )
    return undefined
  }
}
