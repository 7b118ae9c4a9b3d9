import { afterAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { trustedPath } from '../src/sandbox/trusted-path.js'

const root = mkdtempSync(join(tmpdir(), 'kugetsu-path-'))
const workspace = join(root, 'work', 'repo')
const tools = join(root, 'tools')
const open = join(root, 'open')
for (const dir of [join(workspace, 'node_modules', '.bin'), tools, open]) {
  mkdirSync(dir, { recursive: true })
}
chmodSync(open, 0o777)

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('trustedPath', () => {
  it('keeps what the agent cannot write, in order', () => {
    expect(trustedPath(`${tools}:/usr/bin:/bin`, [workspace])).toEqual({
      path: `${tools}:/usr/bin:/bin`,
      dropped: []
    })
  })

  it('drops the workspace and what is in it, world-writable dirs and relative entries', () => {
    const path = [
      workspace,
      join(workspace, 'node_modules', '.bin'),
      `${workspace}/../repo/bin`,
      open,
      '.',
      'bin',
      '',
      tools,
      '/usr/bin'
    ].join(':')
    const result = trustedPath(path, [workspace])
    expect(result.path).toBe(`${tools}:/usr/bin`)
    expect(result.dropped).toEqual([
      workspace,
      join(workspace, 'node_modules', '.bin'),
      `${workspace}/../repo/bin`,
      open,
      '.',
      'bin'
    ])
  })

  it('keeps a sibling whose name only starts like the workspace', () => {
    const sibling = `${workspace}-tools`
    expect(trustedPath(sibling, [workspace]).dropped).toEqual([])
  })
})
