import { describe, expect, it } from '@jest/globals'
import { workLine } from '../src/action/conversation/report.js'
import type { CheckedOut } from '../src/action/work/checkout.js'
import { ACTIONS_BOT_IDENTITY, noreplyEmail } from '../src/action/work/identity.js'
import type { WorkPlan } from '../src/action/work/target.js'
import { workPrompt } from '../src/action/work/work-prompt.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'

describe('workLine', () => {
  it('nothing to tell: no line', () => {
    expect(workLine(undefined)).toBe('')
    expect(workLine({})).toBe('')
    // a commit without a branch (never pushed) is not told as pushed
    expect(workLine({ commit: SHA })).toBe('')
  })

  it('the commit, short, linked to its changes, and the pull request', () => {
    expect(
      workLine({
        branch: 'kugetsu/issue-7',
        commit: SHA,
        changesUrl: `https://github.com/o/r/commit/${SHA}`,
        pullRequest: { number: 40, url: 'https://github.com/o/r/pull/40' }
      })
    ).toBe(
      `**Work:** pushed [\`0123456\`](https://github.com/o/r/commit/${SHA}) to \`kugetsu/issue-7\` · pull request [#40](https://github.com/o/r/pull/40)`
    )
  })

  it('a commit without a link, or a pull request alone (a turn that changed nothing)', () => {
    expect(workLine({ branch: 'b', commit: SHA })).toBe('**Work:** pushed `0123456` to `b`')
    expect(workLine({ pullRequest: { number: 3, url: 'u' } })).toBe(
      '**Work:** pull request [#3](u)'
    )
  })
})

describe('noreplyEmail', () => {
  it("github.com's no-reply domain, with the id first", () => {
    expect(noreplyEmail('github.com', 'kugetsu-app[bot]', 123)).toBe(
      '123+kugetsu-app[bot]@users.noreply.github.com'
    )
    expect(ACTIONS_BOT_IDENTITY.email).toBe(
      noreplyEmail('github.com', 'github-actions[bot]', 41898282)
    )
  })

  it("a GitHub Enterprise Server's own no-reply domain", () => {
    expect(noreplyEmail('ghe.example.com', 'alice', 7)).toBe(
      '7+alice@users.noreply.ghe.example.com'
    )
  })
})

/** A checkout as checkOut returns it; workPrompt reads only the plan and the branch. */
const checkedOut = (plan: WorkPlan, branch?: string): CheckedOut =>
  ({ plan, branch, base: SHA, defaultBranch: 'main', notes: [] }) as unknown as CheckedOut

describe('workPrompt', () => {
  const branchPlan: WorkPlan = {
    sessionNumber: 7,
    checkout: { kind: 'branch', branch: 'kugetsu/issue-7' },
    pushBranch: 'kugetsu/issue-7',
    untrustedConfig: false
  }

  it('no checkout (push: false): nothing to tell', () => {
    expect(workPrompt(undefined, '')).toBe('')
    expect(workPrompt(undefined, 'news')).toBe('')
  })

  it('a branch kugetsu pushes to: where, and that kugetsu pushes, not the agent', () => {
    const prompt = workPrompt(checkedOut(branchPlan, 'kugetsu/issue-7'), '')
    expect(prompt).toBe(
      '[kugetsu] The working directory is a checkout of branch `kugetsu/issue-7`. When your turn ends, kugetsu commits what you changed there and pushes it to `kugetsu/issue-7` (you cannot push yourself).'
    )
  })

  it('what others pushed follows, in a paragraph of its own', () => {
    const prompt = workPrompt(checkedOut(branchPlan, 'kugetsu/issue-7'), '<pushed-commits/>')
    expect(prompt.endsWith('(you cannot push yourself).\n\n<pushed-commits/>')).toBe(true)
  })

  it("a read-only pull request's head: its number, and that nothing is pushed", () => {
    const plan: WorkPlan = {
      sessionNumber: 7,
      checkout: { kind: 'pull', ref: 'refs/pull/40/head', number: 40 },
      untrustedConfig: true,
      readOnlyReason: '#40 comes from a fork'
    }
    expect(workPrompt(checkedOut(plan), '')).toBe(
      '[kugetsu] The working directory is a checkout of the head of pull request #40. Nothing you change there is pushed.'
    )
  })
})
