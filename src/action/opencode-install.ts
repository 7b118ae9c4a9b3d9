import * as core from '@actions/core'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'
import { installDir, resolveOpencodeBinary } from '../opencode/binary.js'
import { CacheRestoreError, createActionsCacheClient } from './cache-state.js'

type CacheModule = typeof import('@actions/cache')

/**
 * The opencode binary for a run of the action: on PATH at the wanted version, else in the runner's
 * tool cache, else restored from the Actions cache, else installed from npm once and saved there
 * (keyed by version, OS and architecture), so a warm run installs nothing and asks no registry.
 */
export async function opencodeForAction(
  env: NodeJS.ProcessEnv,
  version: string,
  loadCache: () => Promise<CacheModule>
): Promise<string> {
  const toolDir = join(
    env.RUNNER_TOOL_CACHE || join(env.RUNNER_TEMP || tmpdir(), 'tools'),
    'kugetsu'
  )
  const found = await resolveOpencodeBinary({ version, toolDir, env, install: false }).catch(
    () => undefined
  )
  if (found) return found.path

  await mkdir(toolDir, { recursive: true })
  const cache = createActionsCacheClient(toolDir, loadCache)
  const stream = `kugetsu-opencode-${version}-${process.platform}-${process.arch}`
  const restored = await cache
    .restore(installDir(toolDir, version), `${stream}-`)
    .catch((error: unknown) => {
      if (!(error instanceof CacheRestoreError)) throw error
      return undefined
    })
  if (restored) {
    const cached = await resolveOpencodeBinary({
      version,
      toolDir,
      env,
      install: false,
      searchPath: false
    }).catch(() => undefined)
    if (cached) return cached.path
  }
  const installed = await resolveOpencodeBinary({
    version,
    toolDir,
    env,
    searchPath: false,
    log: core.info
  })
  await cache
    .save(
      installDir(toolDir, version),
      `${stream}-${env.GITHUB_RUN_ID || '0'}-${env.GITHUB_RUN_ATTEMPT || '1'}`
    )
    .catch((error: unknown) =>
      core.warning(`could not cache the opencode binary: ${errorMessage(error)}`)
    )
  return installed.path
}
