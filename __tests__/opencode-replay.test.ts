import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseExport, replayEvents } from '../src/opencode/replay.js'

// A real `opencode export` (1.18.33): 10 messages, 19 parts, made in a directory that is no git
// repository (project "global").
const exportText = readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'opencode', 'export.json'),
  'utf8'
)
const location = {
  projectID: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  worktree: '/home/runner/work/repo/repo',
  directory: '/home/runner/work/repo/repo/packages/app'
}

describe('parseExport', () => {
  it('reads the session and its messages', () => {
    const exported = parseExport(exportText)
    expect(exported.info.id).toBe('ses_df45beea0ffeyrTX5JXp0N2j3C')
    expect(exported.messages).toHaveLength(10)
  })

  it.each([
    ['nope', 'the session export to import is not JSON'],
    ['[]', 'the session export to import has no session id'],
    ['{"info":{}}', 'the session export to import has no session id'],
    ['{"info":{"id":""}}', 'the session export to import has no session id'],
    ['{"info":{"id":"ses_1"},"messages":{}}', 'the session export of ses_1 has malformed messages'],
    [
      '{"info":{"id":"ses_1"},"messages":[{"info":{},"parts":[1]}]}',
      'the session export of ses_1 has malformed messages'
    ],
    [
      '{"info":{"id":"ses_1"},"messages":[{"parts":[]}]}',
      'the session export of ses_1 has malformed messages'
    ]
  ])('refuses %s', (text, message) => {
    expect(() => parseExport(text)).toThrow(message)
    try {
      parseExport(text)
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid-input' })
    }
  })

  it('takes an export without messages as an empty session', () => {
    expect(parseExport('{"info":{"id":"ses_1"}}').messages).toEqual([])
  })
})

describe('replayEvents', () => {
  const exported = parseExport(exportText)
  const events = replayEvents(exported, location, 1_795_500_000_000)
  const parts = exported.messages.flatMap((message) => message.parts)

  it('creates the session, then each message followed by its parts, in the export order', () => {
    expect(events).toHaveLength(1 + exported.messages.length + parts.length)
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index))
    expect(new Set(events.map((event) => event.aggregateID))).toEqual(new Set([exported.info.id]))
    expect(events[0].type).toBe('session.created.1')
    const order = events
      .slice(1)
      .map((event) =>
        event.type === 'message.updated.1'
          ? (event.data.info as { id: string }).id
          : (event.data.part as { id: string }).id
      )
    expect(order).toEqual(
      exported.messages.flatMap((message) => [
        message.info.id,
        ...message.parts.map((part) => part.id)
      ])
    )
    for (const event of events.slice(1)) expect(event.data.sessionID).toBe(exported.info.id)
  })

  it('moves the session to the importing project and checkout, keeping everything else', () => {
    const { info } = events[0].data as { info: Record<string, unknown> }
    expect(info).toEqual({
      ...exported.info,
      projectID: location.projectID,
      directory: location.directory,
      path: 'packages/app'
    })
    const root = replayEvents(exported, { ...location, directory: location.worktree })[0].data
    expect((root.info as { path: string }).path).toBe('')
  })

  it('carries messages and parts unchanged', () => {
    const messages = events.filter((event) => event.type === 'message.updated.1')
    expect(messages.map((event) => event.data.info)).toEqual(
      exported.messages.map((message) => message.info)
    )
    const replayed = events.filter((event) => event.type === 'message.part.updated.1')
    expect(replayed.map((event) => event.data.part)).toEqual(parts)
    expect(new Set(replayed.map((event) => event.data.time))).toEqual(new Set([1_795_500_000_000]))
  })

  it('gives unique event ids shaped like opencode ids that sort in replay order', () => {
    const ids = events.map((event) => event.id)
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{12}[0-9A-Za-z]{14}$/)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  it('does not change the export it was given', () => {
    expect(JSON.stringify(exported)).toBe(JSON.stringify(parseExport(exportText)))
  })
})
