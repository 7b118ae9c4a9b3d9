import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEntryStore } from '../src/store/entries.js'
import { stateCodec } from '../src/store/crypto.js'
import type { IssueRecord } from '../src/store/types.js'

const KEY = 'k'.repeat(16) + '-correct-horse'
const OTHER_KEY = 'k'.repeat(16) + '-battery-staple'
const SEVEN = 'github.com/o/r#7'
const EIGHT = 'github.com/o/r#8'

const exportOf = (id: string, text = 'hello') =>
  `${JSON.stringify({ info: { id, directory: '/w' }, messages: [{ text }] })}\n`
const record = (ref: string, sessionId: string): IssueRecord => ({
  ref,
  sessionId,
  baseSessionId: 'ses_base',
  createdAt: '2026-11-24T00:00:00Z',
  updatedAt: '2026-11-24T00:01:00Z',
  turns: 1
})

let root: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kugetsu-entries-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

/** Every file the store wrote, by path relative to the root. */
function files(): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`)
      else out[`${prefix}${entry.name}`] = readFileSync(join(dir, entry.name), 'utf8')
    }
  }
  walk(root, '')
  return out
}

describe('entry store', () => {
  it('keeps the base and each issue in a directory of its own', async () => {
    const store = createEntryStore(root)
    await store.putBase({ sessionId: 'ses_base', createdAt: 1 } as never, exportOf('ses_base'))
    await store.putIssue(record(SEVEN, 'ses_7'), exportOf('ses_7'))
    expect(Object.keys(files()).sort()).toEqual([
      'base/record.json',
      'base/session.json',
      'issues/github.com~o~r~7/record.json',
      'issues/github.com~o~r~7/session.json'
    ])
    expect(await store.getIssue(SEVEN)).toMatchObject({ sessionId: 'ses_7', turns: 1 })
    expect(await store.readIssueExport(SEVEN)).toBe(exportOf('ses_7'))
    expect(await store.getIssue(EIGHT)).toBeUndefined()
  })

  it('a truncated session export is a clear error naming the issue, never handed to opencode', async () => {
    const store = createEntryStore(root)
    await store.putIssue(record(SEVEN, 'ses_7'), exportOf('ses_7'))
    const path = join(store.issueDir(SEVEN), 'session.json')
    writeFileSync(path, exportOf('ses_7').slice(0, 30))
    await expect(store.readIssueExport(SEVEN)).rejects.toThrow(
      /^the stored session of github.com\/o\/r#7 is unreadable, truncated or damaged \(.*\); destroy it and start again$/
    )
    writeFileSync(path, '{"messages": []}')
    await expect(store.readIssueExport(SEVEN)).rejects.toThrow(
      'the stored session of github.com/o/r#7 is not a session export; destroy it and start again'
    )
  })

  it('a damaged record is a corrupt-state error naming the issue', async () => {
    const store = createEntryStore(root)
    await store.putIssue(record(SEVEN, 'ses_7'), exportOf('ses_7'))
    writeFileSync(join(store.issueDir(SEVEN), 'record.json'), '[1, 2')
    await expect(store.getIssue(SEVEN)).rejects.toMatchObject({
      code: 'corrupt-state',
      message: expect.stringMatching(/^the stored record of github.com\/o\/r#7 is unreadable/)
    })
  })
})

describe('entry store sealed with a state-key', () => {
  it('writes no plaintext and reads its own entries back', async () => {
    const store = createEntryStore(root, stateCodec(KEY))
    await store.putBase({ sessionId: 'ses_base', createdAt: 1 } as never, exportOf('ses_base'))
    await store.putIssue(record(SEVEN, 'ses_7'), exportOf('ses_7', 'the secret plan'))
    for (const [path, text] of Object.entries(files())) {
      expect({ path, start: text.slice(0, 15) }).toEqual({ path, start: 'kugetsu-enc-v1 ' })
      expect(text).not.toMatch(/ses_7|ses_base|secret plan/)
    }
    expect(await store.getIssue(SEVEN)).toMatchObject({ sessionId: 'ses_7' })
    expect(await store.readIssueExport(SEVEN)).toBe(exportOf('ses_7', 'the secret plan'))
    expect(await store.getBase()).toMatchObject({ sessionId: 'ses_base' })
    expect(await store.listIssues()).toEqual([expect.objectContaining({ sessionId: 'ses_7' })])
  })

  it('another key, no key, or a file moved from another issue is refused, never read as empty', async () => {
    await createEntryStore(root, stateCodec(KEY)).putIssue(
      record(SEVEN, 'ses_7'),
      exportOf('ses_7')
    )
    await expect(createEntryStore(root, stateCodec(OTHER_KEY)).getIssue(SEVEN)).rejects.toThrow(
      /state-key is not the one it was encrypted with/
    )
    await expect(createEntryStore(root).getIssue(SEVEN)).rejects.toThrow(
      /is encrypted, but no state-key is set/
    )
    const sealed = createEntryStore(root, stateCodec(KEY))
    // #8's files replaced by #7's: each file is bound to its issue (and to which file it is).
    await sealed.putIssue(record(EIGHT, 'ses_8'), exportOf('ses_8'))
    const seven = readFileSync(join(sealed.issueDir(SEVEN), 'session.json'), 'utf8')
    writeFileSync(join(sealed.issueDir(EIGHT), 'session.json'), seven)
    await expect(sealed.readIssueExport(EIGHT)).rejects.toThrow(/another|context/i)
    const sevenRecord = readFileSync(join(sealed.issueDir(SEVEN), 'record.json'), 'utf8')
    writeFileSync(join(sealed.issueDir(SEVEN), 'session.json'), sevenRecord)
    await expect(sealed.readIssueExport(SEVEN)).rejects.toThrow(/another|context/i)
  })

  it('a plaintext entry is refused once a state-key is set', async () => {
    await createEntryStore(root).putIssue(record(SEVEN, 'ses_7'), exportOf('ses_7'))
    await expect(createEntryStore(root, stateCodec(KEY)).getIssue(SEVEN)).rejects.toMatchObject({
      code: 'corrupt-state',
      message: expect.stringMatching(/is not encrypted although a state-key is set/)
    })
  })
})
