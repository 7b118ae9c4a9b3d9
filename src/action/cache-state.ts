import { relative } from 'node:path'
import { KugetsuError } from '../errors.js'

/**
 * Moves state directories in and out of the Actions cache. Entries are immutable, so every save
 * uses a new key (`<stream prefix><run id>-<attempt>`) and a restore takes the newest entry whose
 * key starts with the stream prefix. Prefixes end in `-`, so issue 7's stream never matches 70's.
 */
export interface CacheClient {
  /**
   * Restores the newest entry of the stream into `dir`: the matched key, or undefined when the
   * stream has no entry. Throws CacheRestoreError when there may be one that could not be read.
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
  /**
   * The key a save in this run uses for a stream. `facts` (such as the turn count and session id)
   * are appended so `list` can read them from the key alone.
   */
  keyFor(stream: string, facts?: string[]): string
}

export function stateKeys(prefix: string, runId: string, runAttempt: string): StateKeys {
  const suffix = `${runId || '0'}-${runAttempt || '1'}`.toLowerCase()
  return {
    baseStream: (baseHash) => `${prefix}-base-${baseHash.slice(0, 16)}-`,
    issueStream: (refSlug) => `${prefix}-issue-${refSlug}-`,
    keyFor: (stream, facts = []) => {
      const key = [
        `${stream}${suffix}`,
        ...facts.map((fact) => fact.replace(/[^A-Za-z0-9_.]/g, '_'))
      ].join('-')
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
  load: () => Promise<CacheModule>
): CacheClient {
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
        const { value: key, failure } = await watchRestoreFailure(() =>
          cache.restoreCache([literal(dir)], streamPrefix, [streamPrefix])
        )
        if (key === undefined && failure !== undefined) throw new CacheRestoreError(failure)
        return key
      }),
    save: (dir, key) =>
      inRoot(async (cache) => (await cache.saveCache([literal(dir)], key)) !== -1),
    newestKey: (dir, streamPrefix) =>
      inRoot((cache) =>
        cache.restoreCache([literal(dir)], streamPrefix, [streamPrefix], { lookupOnly: true })
      ).catch(() => undefined)
  }
}
