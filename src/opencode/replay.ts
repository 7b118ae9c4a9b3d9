/**
 * An import over opencode serve's HTTP API, with no second opencode process: a session export
 * becomes the sync events that would have built it (`session.created`, then `message.updated` and
 * `message.part.updated` for each message and part, in order), which `POST /sync/replay` writes.
 *
 * As `opencode import` does, the session moves to the importing checkout: its project, directory
 * and path are those of the server's instance for that directory. The sync API is marked
 * experimental in opencode 1.18, so serve.ts falls back to the CLI import whenever the server
 * refuses the events.
 */
import { randomInt } from 'node:crypto'
import path from 'node:path'
import { KugetsuError } from '../errors.js'

export interface ExportedSession {
  info: { id: string } & Record<string, unknown>
  messages: { info: Record<string, unknown>; parts: Record<string, unknown>[] }[]
}

/** Where the session is imported to: the server's project for the checkout. */
export interface ImportLocation {
  projectID: string
  worktree: string
  directory: string
}

export interface SyncEvent {
  id: string
  aggregateID: string
  seq: number
  type: string
  data: Record<string, unknown>
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The session an export holds, or an invalid-input error naming what is wrong with it. */
export function parseExport(text: string): ExportedSession {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new KugetsuError('invalid-input', 'the session export to import is not JSON')
  }
  const info = isRecord(parsed) ? parsed.info : undefined
  if (!isRecord(info) || typeof info.id !== 'string' || !info.id) {
    throw new KugetsuError('invalid-input', 'the session export to import has no session id')
  }
  const messages = (parsed as { messages?: unknown }).messages ?? []
  const wellFormed =
    Array.isArray(messages) &&
    messages.every(
      (message) =>
        isRecord(message) &&
        isRecord(message.info) &&
        Array.isArray(message.parts) &&
        message.parts.every(isRecord)
    )
  if (!wellFormed) {
    throw new KugetsuError(
      'invalid-input',
      `the session export of ${info.id} has malformed messages`
    )
  }
  return {
    info: info as ExportedSession['info'],
    messages: messages as ExportedSession['messages']
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * Event ids shaped like opencode's own ascending ids (`evt_`, 12 hex digits of time and counter, 14
 * random characters), so they sort in the order the events are given.
 */
function eventIds(now: number): () => string {
  let counter = 0
  return () => {
    counter += 1
    const stamp = (BigInt(now) * 0x1000n + BigInt(counter)) & 0xffffffffffffn
    let random = ''
    for (let i = 0; i < 14; i++) random += BASE62[randomInt(BASE62.length)]
    return `evt_${stamp.toString(16).padStart(12, '0')}${random}`
  }
}

/** The events that rebuild `exported` at `location`, numbered from 0. */
export function replayEvents(
  exported: ExportedSession,
  location: ImportLocation,
  now = Date.now()
): SyncEvent[] {
  const sessionID = exported.info.id
  const nextId = eventIds(now)
  const events: SyncEvent[] = []
  const push = (type: string, data: Record<string, unknown>) =>
    events.push({ id: nextId(), aggregateID: sessionID, seq: events.length, type, data })

  const directory = path.resolve(location.directory)
  push('session.created.1', {
    sessionID,
    info: {
      ...exported.info,
      projectID: location.projectID,
      directory,
      path: path.relative(path.resolve(location.worktree), directory).replaceAll('\\', '/')
    }
  })
  for (const message of exported.messages) {
    push('message.updated.1', { sessionID, info: { ...message.info, sessionID } })
    for (const part of message.parts) {
      push('message.part.updated.1', { sessionID, part: { ...part, sessionID }, time: now })
    }
  }
  return events
}
