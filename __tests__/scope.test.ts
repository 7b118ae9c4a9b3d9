import { describe, expect, it } from '@jest/globals'
import {
  defaultBranchFromPayload,
  defaultBranchRef,
  isBranchName
} from '../src/action/github/scope.js'

describe('isBranchName', () => {
  it('takes ordinary branch names', () => {
    for (const name of ['main', 'master', 'trunk', 'release/1.x', 'dev_2', 'ünïcode']) {
      expect(isBranchName(name)).toBe(true)
    }
  })

  it('refuses what git would refuse, or what could widen the ref', () => {
    for (const name of [
      '',
      'a b',
      'main\n',
      'a..b',
      '/main',
      'main/',
      'a//b',
      '-x',
      'x.lock',
      'a~1',
      'a^',
      'a:b',
      'a*',
      'a?',
      'a[b',
      'a\\b',
      'a@{1}',
      'x'.repeat(256),
      42,
      null,
      undefined,
      ['main']
    ]) {
      expect(isBranchName(name)).toBe(false)
    }
  })
})

describe('defaultBranchFromPayload', () => {
  it('reads repository.default_branch, and nothing odd', () => {
    expect(defaultBranchFromPayload({ repository: { default_branch: 'trunk' } })).toBe('trunk')
    expect(defaultBranchFromPayload({ repository: { default_branch: '../x' } })).toBeUndefined()
    expect(defaultBranchFromPayload({ repository: {} })).toBeUndefined()
    expect(defaultBranchFromPayload({})).toBeUndefined()
    expect(defaultBranchFromPayload(null)).toBeUndefined()
  })
})

describe('defaultBranchRef', () => {
  it('uses the payload’s branch without asking the API', async () => {
    const read = () => Promise.reject(new Error('not called'))
    await expect(defaultBranchRef('trunk', read)).resolves.toBe('refs/heads/trunk')
  })

  it('asks the API once when the payload names none', async () => {
    let calls = 0
    const read = () => {
      calls++
      return Promise.resolve('main')
    }
    await expect(defaultBranchRef(undefined, read)).resolves.toBe('refs/heads/main')
    expect(calls).toBe(1)
  })

  it('refuses an odd name from the API with its own error code', async () => {
    await expect(defaultBranchRef(undefined, () => Promise.resolve(''))).rejects.toMatchObject({
      code: 'no-default-branch',
      message: expect.stringMatching(/is not a branch name; nothing was listed or deleted$/)
    })
  })
})
