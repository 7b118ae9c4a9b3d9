/**
 * The opencode binary a run of the action drives, and the Actions cache entry that spares the
 * install.
 */
import * as core from '@actions/core'
import { mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KugetsuError, errorMessage, isKugetsuError } from '../../errors.js'
import {
  installDir,
  platformPackages,
  resolveOpencodeBinary,
  tarballDir,
  writeMarker
} from '../../opencode/binary.js'
import { findTarball, unpackVerified } from '../../opencode/package-tarball.js'
import { CacheEntryRefused, CacheRestoreError, createActionsCacheClient } from './cache-state.js'

type CacheModule = typeof import('@actions/cache')

/** The opencode tarball is some 60 MB; an entry may unpack to no more than this. */
export const TOOL_RESTORE_LIMITS = { maxBytes: 1024 * 1024 * 1024, maxMembers: 100 }

const deleteAdvice = (key: string) =>
  `kugetsu never saves such an entry: someone who can write this repository's caches planted it. Delete it (gh cache delete ${key}) and run again`

/** kugetsu's dir in the runner's tool cache: what it installs once (opencode, its plugin tree). */
export function kugetsuToolDir(env: NodeJS.ProcessEnv): string {
  return join(env.RUNNER_TOOL_CACHE || join(env.RUNNER_TEMP || tmpdir(), 'tools'), 'kugetsu')
}

/** A binary a run drives: its path, and its version where known (not for an explicit path). */
export interface OpencodeTool {
  path: string
  version: string | undefined
}

/**
 * The opencode binary for a run of the action: on PATH at the wanted version, else in the runner's
 * tool cache (both the user's own, used as they are), else unpacked from the npm tarball kept in
 * the Actions cache once it matches the published integrity, else installed from npm and its
 * tarball saved there (keyed by version, OS and architecture). A cache entry is never trusted:
 * a warm run installs nothing, but runs nothing it has not checked.
 */
export async function opencodeForAction(
  env: NodeJS.ProcessEnv,
  version: string,
  loadCache: () => Promise<CacheModule>
): Promise<OpencodeTool> {
  const toolDir = kugetsuToolDir(env)
  const found = await resolveOpencodeBinary({ version, toolDir, env, install: false }).catch(
    () => undefined
  )
  if (found) return { path: found.path, version: found.version }

  await mkdir(toolDir, { recursive: true })
  const cache = createActionsCacheClient(toolDir, loadCache, TOOL_RESTORE_LIMITS)
  // Lowercase: Gitea's and Forgejo's cache servers lowercase keys.
  const stream = `kugetsu-opencode-${version}-${process.platform}-${process.arch}`.toLowerCase()
  const tarballs = tarballDir(toolDir, version)
  await rm(tarballs, { recursive: true, force: true })
  const restored = await cache.restore(tarballs, `${stream}-`).catch((error: unknown) => {
    if (error instanceof CacheEntryRefused) {
      const key = error.key ?? `${stream}-…`
      throw new KugetsuError(
        'unverified-binary',
        `the Actions cache entry ${key} of opencode ${version} was refused before anything was extracted (${error.reason}); nothing of it was run. ${deleteAdvice(key)}`,
        { cause: error }
      )
    }
    if (!(error instanceof CacheRestoreError)) throw error
    return undefined
  })
  if (restored) return { path: await unpackCached(restored, toolDir, version, env), version }

  const installed = await resolveOpencodeBinary({
    version,
    toolDir,
    env,
    searchPath: false,
    log: core.info
  })
  await cache
    .save(
      tarballs,
      `${stream}-${env.GITHUB_RUN_ID || '0'}-${env.GITHUB_RUN_ATTEMPT || '1'}`.toLowerCase()
    )
    .catch((error: unknown) =>
      core.warning(`could not cache the opencode binary: ${errorMessage(error)}`)
    )
  return { path: installed.path, version: installed.version ?? version }
}

/** The binary of the tarball a cache entry restored, once the tarball proved to be npm's. */
async function unpackCached(
  key: string,
  toolDir: string,
  version: string,
  env: NodeJS.ProcessEnv
): Promise<string> {
  const dir = installDir(toolDir, version)
  const tarball = await findTarball(tarballDir(toolDir, version), platformPackages(), version)
  if (!tarball) {
    throw new KugetsuError(
      'unverified-binary',
      `the Actions cache entry ${key} holds no single opencode ${version} tarball for this machine; nothing of it was run. ${deleteAdvice(key)}`
    )
  }
  const started = Date.now()
  const npm = { npm: process.platform === 'win32' ? 'npm.cmd' : 'npm', env }
  const binary = await unpackVerified(tarball.file, tarball.name, version, dir, npm).catch(
    (error: unknown) => {
      if (!isKugetsuError(error, 'unverified-binary')) throw error
      throw new KugetsuError(
        'unverified-binary',
        `the Actions cache entry ${key}: ${error.message}. ${deleteAdvice(key)}`,
        { cause: error }
      )
    }
  )
  await writeMarker(dir, binary, version)
  core.info(`opencode ${version} checked and unpacked from ${key} in ${Date.now() - started} ms`)
  return binary
}
