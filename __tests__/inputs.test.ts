import { describe, expect, it } from '@jest/globals'
import { readInputs } from '../src/action/inputs.js'

const env = (inputs: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])
  )

describe('readInputs: trust and safety inputs', () => {
  it('defaults: write permission, nobody listed, no state-key, no token for the agent', () => {
    expect(readInputs(env({}))).toMatchObject({
      minPermission: 'write',
      allowedUsers: [],
      allowedBots: [],
      stateKey: '',
      exposeGithubToken: false
    })
  })

  it('reads lists, the permission and the opt-in', () => {
    expect(
      readInputs(
        env({
          'min-permission': ' Triage ',
          'allowed-users': '@alice, bob\ncarol,',
          'allowed-bots': 'renovate[bot], dependabot',
          'state-key': 'x'.repeat(16),
          'expose-github-token': 'true'
        })
      )
    ).toMatchObject({
      minPermission: 'triage',
      allowedUsers: ['alice', 'bob', 'carol'],
      allowedBots: ['renovate[bot]', 'dependabot'],
      stateKey: 'x'.repeat(16),
      exposeGithubToken: true
    })
  })

  it('refuses what it cannot honour, saying which input', () => {
    expect(() => readInputs(env({ 'min-permission': 'owner' }))).toThrow(/^min-permission must be/)
    expect(() => readInputs(env({ 'allowed-bots': 'a b' }))).toThrow(/^allowed-bots has an entry/)
    expect(() => readInputs(env({ 'state-key': 'x'.repeat(15) }))).toThrow(
      /^state-key must be at least 16 characters \(it is 15\)/
    )
    expect(() => readInputs(env({ 'expose-github-token': 'sure' }))).toThrow(
      /^expose-github-token must be true or false/
    )
  })
})

describe('readInputs: opencode-serve', () => {
  it('is on by default, off when asked, refused when neither', () => {
    expect(readInputs(env({})).opencodeServe).toBe(true)
    expect(readInputs(env({ 'opencode-serve': 'false' })).opencodeServe).toBe(false)
    expect(() => readInputs(env({ 'opencode-serve': 'fast' }))).toThrow(
      'opencode-serve must be true or false; got "fast"'
    )
  })
})

describe('readInputs: the work product', () => {
  it('pushes to kugetsu/issue-N with a draft pull request by default, deleting no branch', () => {
    expect(readInputs(env({}))).toMatchObject({
      push: true,
      branchPrefix: 'kugetsu/',
      pullRequest: 'draft',
      deleteBranch: false
    })
  })

  it('reads read-only mode, a prefix, the pull request mode and delete-branch', () => {
    expect(
      readInputs(
        env({
          push: 'false',
          'branch-prefix': 'bots/kugetsu-',
          'pull-request': 'Ready',
          'delete-branch': 'true'
        })
      )
    ).toMatchObject({
      push: false,
      branchPrefix: 'bots/kugetsu-',
      pullRequest: 'ready',
      deleteBranch: true
    })
    expect(readInputs(env({ 'pull-request': 'none' })).pullRequest).toBe('none')
  })

  it('refuses a prefix git would not take and an unknown pull-request mode', () => {
    expect(() => readInputs(env({ 'branch-prefix': 'a..b/' }))).toThrow(/branch-prefix/)
    expect(() => readInputs(env({ 'branch-prefix': '-x/' }))).toThrow(/branch-prefix/)
    expect(() => readInputs(env({ 'pull-request': 'open' }))).toThrow(
      /pull-request must be draft, ready or none/
    )
    expect(() => readInputs(env({ push: 'maybe' }))).toThrow(/push must be true or false/)
  })
})

describe('readInputs: timeout-minutes', () => {
  it('reads minutes, decimals allowed; empty leaves the default', () => {
    expect(readInputs(env({ 'timeout-minutes': '0.5' })).timeoutMs).toBe(30_000)
    expect(readInputs(env({ 'timeout-minutes': '35791' })).timeoutMs).toBe(35791 * 60_000)
    expect(readInputs(env({})).timeoutMs).toBeUndefined()
  })

  it.each(['0', '-1', '35792', '1e9', 'Infinity', 'NaN', 'soon', '0.0000001'])(
    'refuses %j, giving the allowed range',
    (value) => {
      expect(() => readInputs(env({ 'timeout-minutes': value }))).toThrow(
        `timeout-minutes must be a number of minutes above 0 and at most 35791 (about 24 days, the longest timer Node keeps); got "${value}"`
      )
    }
  )
})

describe('readInputs: budgets', () => {
  it('empty means no ceiling; amounts and counts are read', () => {
    expect(readInputs(env({}))).toMatchObject({
      maxCostPerIssue: undefined,
      maxTurnsPerIssue: undefined
    })
    expect(
      readInputs(env({ 'max-cost-per-issue': '$2.50', 'max-turns-per-issue': '10' }))
    ).toMatchObject({ maxCostPerIssue: 2.5, maxTurnsPerIssue: 10 })
    expect(readInputs(env({ 'max-cost-per-issue': '0' })).maxCostPerIssue).toBe(0)
  })

  it.each(['-1', '1e3', 'five', '1,5', 'NaN', 'Infinity', '0x10', '.5', '1.'])(
    'refuses max-cost-per-issue %j',
    (value) => {
      expect(() => readInputs(env({ 'max-cost-per-issue': value }))).toThrow(
        /^max-cost-per-issue must be an amount in USD such as 5 or 0\.50, or empty for no ceiling; got /
      )
    }
  )

  it.each(['-1', '1.5', 'ten', '1e2', '99999999999999999999'])(
    'refuses max-turns-per-issue %j',
    (value) => {
      expect(() => readInputs(env({ 'max-turns-per-issue': value }))).toThrow(
        /^max-turns-per-issue must be a whole number of turns \(0 or more\), or empty for no ceiling; got /
      )
    }
  )
})
