import * as core from '@actions/core'
import { delimiter, relative } from 'node:path'
import { KugetsuError } from '../../errors.js'
import { caselessFact } from './key-facts.js'
import { bundledGuardScript, installTarGuard } from './tar-guard-setup.js'

/**
 * Moves state directories in and out of the Actions cache. Entries are immutable, so every save
 * uses a new key (`<stream prefix><run id>-<attempt>`) and a restore takes the newest entry whose
 * key starts with the stream prefix. Prefixes end in `-`, so issue 7's stream never matches 70's.
 */
export interface CacheClient {
  /**
   * Restores the newest entry of the stream into `dir`: the matched key, or undefined when the
   * stream has no entry. Throws CacheRestoreError when there may be one that could not be read,
   * and CacheEntryRefused when its archive could write outside `dir` (nothing was written then).
   */
  restore(dir: string, streamPrefix: string): Promise<string | undefined>
  /** Saves `dir` as a new entry; false when the key already existed. */
  save(dir: string, key: string): Promise<boolean>
  /**
   * The key of the stream's newest entry, without downloading it; undefined when there is none or
   * the lookup failed (it is only ever advisory).
   */
  newestKey(dir: string, streamPrefix: string): Promise<string | undefined>
}

export const MAX_KEY_LENGTH = 512

export function validateStatePrefix(prefix: string): string {
  const value = prefix.trim()
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(value)) {
    throw new KugetsuError(
      'invalid-input',
      `state-prefix must be 1-64 lowercase letters, digits, ".", "_" or "-"; got "${value.slice(0, 80)}"`
    )
  }
  return value
}

export interface StateKeys {
  baseStream(baseHash: string): string
  issueStream(refSlug: string): string
  /** The session index's stream (see sessions/session-index.ts). */
  indexStream(): string
  /**
   * The key a save in this run uses for a stream, all lowercase. `facts` (such as the turn count
   * and session id) are appended caseless (see caselessFact) so `list` can read them from the key.
   */
  keyFor(stream: string, facts?: string[]): string
}

export function stateKeys(prefix: string, runId: string, runAttempt: string): StateKeys {
  const suffix = `${runId || '0'}-${runAttempt || '1'}`.toLowerCase()
  return {
    baseStream: (baseHash) => `${prefix}-base-${baseHash.slice(0, 16)}-`.toLowerCase(),
    issueStream: (refSlug) => `${prefix}-issue-${refSlug}-`.toLowerCase(),
    indexStream: () => `${prefix}-index-`.toLowerCase(),
    keyFor: (stream, facts = []) => {
      const key = [`${stream}${suffix}`.toLowerCase(), ...facts.map(caselessFact)].join('-')
      if (key.length > MAX_KEY_LENGTH) {
        throw new KugetsuError(
          'invalid-input',
          `cache key longer than ${MAX_KEY_LENGTH} characters`
        )
      }
      return key
    }
  }
}

type CacheModule = typeof import('@actions/cache')

/**
 * A restore that failed (the cache service errored, rate-limited or refused, the archive did not
 * download or extract), as opposed to a miss. `@actions/cache` reports both as `undefined`.
 */
export class CacheRestoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CacheRestoreError'
  }
}

/**
 * A cache entry whose archive was refused before anything was extracted: a member outside the
 * restored dir (absolute, `..`, through or as an escaping link), a device, or over the limits.
 * Only someone who can write the repository's caches makes such an entry.
 */
export class CacheEntryRefused extends Error {
  /** The entry's key, when a lookup could still tell it. */
  readonly key: string | undefined
  readonly reason: string

  constructor(key: string | undefined, reason: string) {
    super(`the cache entry ${key ?? '(unknown key)'} was refused: ${reason}`)
    this.name = 'CacheEntryRefused'
    this.key = key
    this.reason = reason
  }
}

export interface CacheClientOptions {
  /** Most bytes a restored archive may unpack to (default 256 MiB). */
  maxBytes?: number
  /** Most members a restored archive may have (default 10,000). */
  maxMembers?: number
  /** The guard's script (default: the one bundled next to this code). */
  guardScript?: string
}

export const STATE_RESTORE_LIMITS = { maxBytes: 256 * 1024 * 1024, maxMembers: 10_000 }

let warnedUnchecked = false

const RESTORE_FAILURE = /^::(?:error|warning)(?: [^:]*)?::Failed to restore: (.*)$/m

/**
 * Runs `fn` while watching stdout for the workflow command `@actions/cache` prints when a restore
 * fails (it prints, then carries on as after a miss): the failure's message, if any. Output is
 * passed through unchanged.
 */
async function watchRestoreFailure<T>(
  fn: () => Promise<T>
): Promise<{ value: T; failure?: string }> {
  let failure: string | undefined
  const write = process.stdout.write
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const match = RESTORE_FAILURE.exec(typeof chunk === 'string' ? chunk : String(chunk))
    if (match && failure === undefined) {
      failure = match[1].replace(/%0D/g, '').replace(/%0A/g, ' ').replace(/%25/g, '%').trim()
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof process.stdout.write
  try {
    return { value: await fn(), failure }
  } finally {
    process.stdout.write = write
  }
}

/** Cache calls change the process's cwd and env, so all clients take turns. */
let cacheCalls: Promise<unknown> = Promise.resolve()

/**
 * The `@actions/cache` client. Paths are given to it relative to `root`, with the workspace it
 * resolves and extracts against pointed at `root` during each call: the cache version hashes the
 * literal path strings, so relative ones keep entries valid whichever runner or temp dir a later
 * run has.
 */
export function createActionsCacheClient(
  root: string,
  load: () => Promise<CacheModule>,
  options: CacheClientOptions = {}
): CacheClient {
  const limits = {
    maxBytes: options.maxBytes ?? STATE_RESTORE_LIMITS.maxBytes,
    maxMembers: options.maxMembers ?? STATE_RESTORE_LIMITS.maxMembers
  }
  const inRoot = <T>(fn: (cache: CacheModule) => Promise<T>): Promise<T> => {
    const next = cacheCalls.then(async () => {
      const cache = await load()
      const cwd = process.cwd()
      const workspace = process.env.GITHUB_WORKSPACE
      process.chdir(root)
      process.env.GITHUB_WORKSPACE = root
      try {
        return await fn(cache)
      } finally {
        process.chdir(cwd)
        if (workspace === undefined) delete process.env.GITHUB_WORKSPACE
        else process.env.GITHUB_WORKSPACE = workspace
      }
    })
    cacheCalls = next.catch(() => undefined)
    return next
  }
  const literal = (dir: string) => relative(root, dir).split('\\').join('/')

  return {
    restore: (dir, streamPrefix) =>
      inRoot(async (cache) => {
        const path = process.env.PATH
        const guard = await installTarGuard(
          { ...limits, scope: literal(dir) },
          {
            guardScript: options.guardScript ?? (await requireGuardScript()),
            path: path ?? '',
            tempDir: process.env.RUNNER_TEMP
          }
        )
        if (!guard && !warnedUnchecked) {
          warnedUnchecked = true
          core.warning(
            'On Windows @actions/cache runs tar from a fixed path, so kugetsu cannot check restored archives before they are extracted; only restore caches written by trusted workflows'
          )
        }
        if (guard) process.env.PATH = [guard.dir, path].filter(Boolean).join(delimiter)
        try {
          const { value: key, failure } = await watchRestoreFailure(() =>
            cache.restoreCache([literal(dir)], streamPrefix, [streamPrefix])
          )
          const stopped = await guard?.outcome()
          if (stopped?.refused) {
            const planted = await cache
              .restoreCache([literal(dir)], streamPrefix, [streamPrefix], { lookupOnly: true })
              .catch(() => undefined)
            throw new CacheEntryRefused(planted, stopped.reason)
          }
          if (key === undefined && failure !== undefined) {
            throw new CacheRestoreError(stopped?.reason ?? failure)
          }
          return key
        } finally {
          if (path === undefined) delete process.env.PATH
          else process.env.PATH = path
          await guard?.remove()
        }
      }),
    save: (dir, key) =>
      inRoot(async (cache) => (await cache.saveCache([literal(dir)], key)) !== -1),
    newestKey: (dir, streamPrefix) =>
      inRoot((cache) =>
        cache.restoreCache([literal(dir)], streamPrefix, [streamPrefix], { lookupOnly: true })
      ).catch(() => undefined)
  }
}

async function requireGuardScript(): Promise<string> {
  const script = await bundledGuardScript()
  if (!script) {
    throw new Error('the tar guard (dist/tar-guard/index.js) is missing; rebuild kugetsu')
  }
  return script
}
