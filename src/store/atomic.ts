/**
 * File primitives of the local store: atomic replacement of a file, and a lock file that
 * serialises read-modify-write cycles across processes.
 */
import { randomBytes } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { KugetsuError } from '../errors.js'

/** The part of a file handle the store writes through. */
export interface WriteHandle {
  writeFile(data: string): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

/**
 * The file-system operations the store uses, narrow enough for a test to wrap one of them and
 * make it fail at a chosen moment.
 */
export interface StoreFs {
  /** `flags` is `'wx'`: create a new file, fail with EEXIST if it exists. */
  open(path: string, flags: 'wx', mode: number): Promise<WriteHandle>
  readFile(path: string): Promise<string>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  readdir(path: string): Promise<string[]>
  mkdir(path: string): Promise<void>
  stat(path: string): Promise<{ mtimeMs: number; isFile(): boolean }>
  /** Makes a rename in the directory durable; best effort (not possible on every platform). */
  syncDir(path: string): Promise<void>
}

export const nodeFs: StoreFs = {
  async open(path, flags, mode) {
    const handle = await fsp.open(path, flags, mode)
    return {
      writeFile: (data) => handle.writeFile(data, 'utf8'),
      sync: () => handle.sync(),
      close: () => handle.close()
    }
  },
  readFile: (path) => fsp.readFile(path, 'utf8'),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  readdir: (path) => fsp.readdir(path),
  async mkdir(path) {
    await fsp.mkdir(path, { recursive: true, mode: 0o700 })
  },
  stat: (path) => fsp.stat(path),
  async syncDir(path) {
    try {
      const handle = await fsp.open(path, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    } catch {
      // Windows cannot open or fsync a directory; the rename is still atomic there.
    }
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/** Random lowercase hex, for names no other writer can pick. */
export function uniqueToken(bytes = 6): string {
  return randomBytes(bytes).toString('hex')
}

const TEMP_SUFFIX = /\.tmp-[0-9]+-[0-9a-f]+$/

/** Whether a file name is one of writeFileAtomic's temporary files (left behind by a crash). */
export function isTempFileName(name: string): boolean {
  return TEMP_SUFFIX.test(name)
}

/**
 * Replaces `path` with `data` so that a reader, or the file after a crash, holds either the old
 * content or the new one, never part of it: write a temporary file beside it, fsync it, rename
 * it over `path`, fsync the directory. On failure the temporary file is removed and `path` is
 * untouched.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  fs: StoreFs = nodeFs,
  mode = 0o600
): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${uniqueToken()}`
  let created = false
  try {
    const handle = await fs.open(temp, 'wx', mode)
    created = true
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temp, path)
    created = false
  } catch (error) {
    if (created) await fs.unlink(temp).catch(() => undefined)
    throw error
  }
  await fs.syncDir(dirname(path))
}

export interface LockOptions {
  /** How long to wait for a lock held by someone else before failing with `state-locked`. */
  timeoutMs?: number
  /**
   * Age after which a lock is taken to be left behind whoever holds it (a lock is held for a few
   * file writes; this covers a recycled pid, and holders on other hosts whose pid cannot be
   * checked).
   */
  staleMs?: number
  fs?: StoreFs
}

interface LockOwner {
  pid: number
  host: string
  token: string
  createdAt: string
}

export interface HeldLock {
  release(): Promise<void>
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>
    if (
      Number.isSafeInteger(owner.pid) &&
      (owner.pid as number) > 0 &&
      typeof owner.host === 'string' &&
      typeof owner.token === 'string' &&
      typeof owner.createdAt === 'string'
    ) {
      return owner as LockOwner
    }
  } catch {
    // An unreadable lock: its writer died between creating and writing it, or is writing it now.
  }
  return undefined
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(
  path: string,
  fs: StoreFs = nodeFs
): Promise<string | undefined> {
  try {
    return await fs.readFile(path)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}

/** Creates `path` exclusively with `content`; false if it exists. */
async function createExclusive(path: string, content: string, fs: StoreFs): Promise<boolean> {
  let handle: WriteHandle
  try {
    handle = await fs.open(path, 'wx', 0o600)
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false
    throw error
  }
  try {
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
  return true
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Takes the lock file `path`: created with O_EXCL and holding the owner's pid, host and a token.
 * A lock whose owner is gone (same host, pid not running) or that is older than `staleMs` is
 * broken; breaking happens under a second lock (`path.break`) and re-checks the lock there, so
 * two waiters can never both break it and one of them delete the other's fresh lock. Waits with
 * exponential backoff up to `timeoutMs`, then fails with `state-locked`.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const fs = options.fs ?? nodeFs
  const timeoutMs = options.timeoutMs ?? 15_000
  const staleMs = options.staleMs ?? 5 * 60_000
  const self: LockOwner = {
    pid: process.pid,
    host: hostname(),
    token: uniqueToken(12),
    createdAt: new Date().toISOString()
  }
  const content = `${JSON.stringify(self)}\n`
  const deadline = Date.now() + timeoutMs
  let delay = 2
  let lastOwner: string | undefined

  for (;;) {
    if (await createExclusive(path, content, fs)) {
      return {
        release: async () => {
          const current = await readIfExists(path, fs).catch(() => undefined)
          if (current !== undefined && parseOwner(current)?.token === self.token) {
            await fs.unlink(path).catch(() => undefined)
          }
        }
      }
    }
    const text = await readIfExists(path, fs)
    if (text !== undefined) {
      lastOwner = text
      if (
        (await isStale(path, text, staleMs, fs)) &&
        (await breakStaleLock(path, text, staleMs, fs))
      ) {
        continue
      }
    }
    if (Date.now() >= deadline) {
      const owner = lastOwner === undefined ? undefined : parseOwner(lastOwner)
      const holder = owner
        ? `pid ${owner.pid} on ${owner.host} since ${owner.createdAt}`
        : 'another process'
      throw new KugetsuError(
        'state-locked',
        `state directory ${dirname(path)} is locked by ${holder}; if no kugetsu is running there, delete ${path}`
      )
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())))
    delay = Math.min(delay * 2, 100)
  }
}

async function isStale(path: string, text: string, staleMs: number, fs: StoreFs): Promise<boolean> {
  const owner = parseOwner(text)
  if (owner && owner.host === hostname() && !isProcessAlive(owner.pid)) return true
  let mtimeMs: number
  try {
    ;({ mtimeMs } = await fs.stat(path))
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw error
  }
  // An unreadable lock is only being written for a moment; give it a short grace.
  const limit = owner ? staleMs : Math.min(staleMs, 10_000)
  return Date.now() - mtimeMs > limit
}

/** Removes the lock if it still is the stale one seen; false if someone else is breaking it. */
async function breakStaleLock(
  path: string,
  seen: string,
  staleMs: number,
  fs: StoreFs
): Promise<boolean> {
  const breaker = `${path}.break`
  const content = `${JSON.stringify({ pid: process.pid, host: hostname(), token: uniqueToken(12), createdAt: new Date().toISOString() })}\n`
  if (!(await createExclusive(breaker, content, fs))) {
    // Someone else is breaking it. A breaker left by a crash is removed once old.
    try {
      const { mtimeMs } = await fs.stat(breaker)
      if (Date.now() - mtimeMs > 10_000) await fs.unlink(breaker).catch(() => undefined)
    } catch {
      // gone already
    }
    return false
  }
  try {
    const now = await readIfExists(path, fs)
    if (now === seen && (await isStale(path, now, staleMs, fs))) {
      await fs.unlink(path).catch((error) => {
        if (errorCode(error) !== 'ENOENT') throw error
      })
    }
  } finally {
    await fs.unlink(breaker).catch(() => undefined)
  }
  return true
}
