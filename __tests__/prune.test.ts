import { describe, expect, it } from '@jest/globals'
import type { CacheEntryInfo } from '../src/action/sessions/listing.js'
import { destroyPlan, issueNumbersWithEntries, planPrune } from '../src/action/sessions/prune.js'

const PREFIX = 'kugetsu-v1'
const CURRENT = '0123456789abcdef'
const OLD = 'fedcba9876543210'
const MAIN = 'refs/heads/main'
const SCOPE = { prefix: PREFIX, scopeRef: MAIN }

let nextId = 1
const entry = (key: string, day: number, sizeBytes = 100, ref = MAIN): CacheEntryInfo => ({
  id: nextId++,
  key,
  ref,
  createdAt: new Date(Date.UTC(2026, 10, day)).toISOString(),
  lastAccessedAt: new Date(Date.UTC(2026, 10, day)).toISOString(),
  sizeBytes
})

const issue7old = entry('kugetsu-v1-issue-7-100-1-t1-ses_seven', 1, 10)
const issue7mid = entry('kugetsu-v1-issue-7-101-1-t2-ses_seven', 2, 20)
const issue7new = entry('kugetsu-v1-issue-7-102-1-t3-ses_seven', 3, 30)
const issue70 = entry('kugetsu-v1-issue-70-103-1-t1-ses_seventy', 1, 40)
const issue8old = entry('kugetsu-v1-issue-8-104-1-t1-ses_eight', 1, 50)
const issue8new = entry('kugetsu-v1-issue-8-105-2-t2-ses_eight', 4, 60)
const baseCurrentOld = entry(`kugetsu-v1-base-${CURRENT}-90-1`, 1, 1000)
const baseCurrentNew = entry(`kugetsu-v1-base-${CURRENT}-91-1`, 2, 2000)
const baseOtherOld = entry(`kugetsu-v1-base-${OLD}-80-1`, 1, 3000)
const baseOtherNew = entry(`kugetsu-v1-base-${OLD}-81-1`, 2, 4000)
const foreign = [
  entry('kugetsu-opencode-1.18.33-linux-x64-1-1', 1),
  entry('other-v1-issue-7-1-1-t9-ses_other', 9),
  entry('kugetsu-v1-issue-7-notes', 9)
]
const all = [
  issue7old,
  issue7mid,
  issue7new,
  issue70,
  issue8old,
  issue8new,
  baseCurrentOld,
  baseCurrentNew,
  baseOtherOld,
  baseOtherNew,
  ...foreign
]

const ids = (items: { id: number }[]) => items.map((item) => item.id).sort((a, b) => a - b)

describe('planPrune', () => {
  it('keeps the newest entry of each issue and of each base hash, deleting the superseded', () => {
    const plan = planPrune(all, { ...SCOPE, currentBaseHash: CURRENT })
    expect(ids(plan.deletions)).toEqual(
      ids([issue7old, issue7mid, issue8old, baseCurrentOld, baseOtherOld])
    )
    expect(ids(plan.kept)).toEqual(
      ids([issue7new, issue70, issue8new, baseCurrentNew, baseOtherNew])
    )
    expect(plan.deletions.find((d) => d.id === issue7old.id)).toEqual({
      id: issue7old.id,
      key: issue7old.key,
      sizeBytes: 10,
      reason: `superseded by ${issue7new.key}`
    })
    expect(plan.totals).toEqual({ count: 5, bytesFreed: 10 + 20 + 50 + 1000 + 3000 })
  })

  it('deletes every entry of a closed issue, and only of that issue (7 is not 70)', () => {
    const plan = planPrune(all, { ...SCOPE, currentBaseHash: CURRENT, closedIssues: [7] })
    const closed = plan.deletions.filter((d) => d.reason === 'issue #7 is closed')
    expect(ids(closed)).toEqual(ids([issue7old, issue7mid, issue7new]))
    expect(plan.kept).toContain(issue70)
  })

  it('with dropOtherBases, deletes every entry of other base hashes but keeps the current newest', () => {
    const plan = planPrune(all, {
      ...SCOPE,
      currentBaseHash: `${CURRENT}99999999`,
      dropOtherBases: true
    })
    const bases = plan.deletions.filter((d) => d.key.includes('-base-'))
    expect(ids(bases)).toEqual(ids([baseCurrentOld, baseOtherOld, baseOtherNew]))
    expect(bases.find((d) => d.id === baseOtherNew.id)?.reason).toBe(
      `base ${OLD} is not the current base (${CURRENT})`
    )
    expect(plan.kept).toContain(baseCurrentNew)
  })

  it('never touches keys that are not kugetsu entries under the prefix', () => {
    const plan = planPrune(foreign, { ...SCOPE, currentBaseHash: CURRENT, closedIssues: [7] })
    expect(plan).toEqual({
      deletions: [],
      kept: [],
      totals: { count: 0, bytesFreed: 0 },
      otherScopes: 0
    })
  })

  it('breaks a createdAt tie by the larger id', () => {
    const a = entry('kugetsu-v1-issue-5-1-1-t1-ses_a', 5)
    const b = entry('kugetsu-v1-issue-5-2-1-t2-ses_a', 5)
    const plan = planPrune([b, a], { ...SCOPE, currentBaseHash: CURRENT })
    expect(plan.deletions.map((d) => d.id)).toEqual([a.id])
  })

  it('reads lowercased keys (Gitea, Forgejo)', () => {
    const upper = entry('kugetsu-v1-base-0123456789ABCDEF-1-1', 1)
    const lower = entry('kugetsu-v1-base-0123456789abcdef-2-1', 2)
    const plan = planPrune([upper, lower], {
      ...SCOPE,
      currentBaseHash: CURRENT,
      dropOtherBases: true
    })
    expect(plan.deletions.map((d) => d.id)).toEqual([upper.id])
  })
})

describe('issueNumbersWithEntries', () => {
  it('lists each issue with entries once, ascending', () => {
    expect(issueNumbersWithEntries(all, SCOPE)).toEqual([7, 8, 70])
  })
})

describe('destroyPlan', () => {
  it("deletes every entry of one issue, matching the whole key (7 is not 70's prefix)", () => {
    const plan = destroyPlan(all, SCOPE, { issueNumber: 7 })
    expect(ids(plan.deletions)).toEqual(ids([issue7old, issue7mid, issue7new]))
    expect(plan.deletions.every((d) => d.reason === 'destroy issue #7')).toBe(true)
    expect(plan.kept).toContain(issue70)
    expect(plan.totals).toEqual({ count: 3, bytesFreed: 60 })
  })

  it('deletes every base entry, of every hash', () => {
    const plan = destroyPlan(all, SCOPE, { base: true })
    expect(ids(plan.deletions)).toEqual(
      ids([baseCurrentOld, baseCurrentNew, baseOtherOld, baseOtherNew])
    )
    expect(plan.totals.bytesFreed).toBe(10_000)
  })

  it('an issue without entries gives an empty plan', () => {
    expect(destroyPlan(all, SCOPE, { issueNumber: 9 }).totals).toEqual({ count: 0, bytesFreed: 0 })
  })
})

describe('other refs’ scopes', () => {
  // Issue 7's live session on the default branch, and a newer entry of the same issue saved by a
  // pull request run (refs/pull/12/merge) and by a manual run on a feature branch.
  const live = entry('kugetsu-v1-issue-7-200-1-t3-ses_live', 3)
  const fromPull = entry('kugetsu-v1-issue-7-300-1-t9-ses_pull', 9, 100, 'refs/pull/12/merge')
  const fromBranch = entry('kugetsu-v1-issue-7-301-1-t9-ses_branch', 9, 100, 'refs/heads/feature')
  const baseOfPull = entry(`kugetsu-v1-base-${CURRENT}-302-1`, 9, 100, 'refs/pull/12/merge')
  const base = entry(`kugetsu-v1-base-${CURRENT}-199-1`, 2)
  const noRef = entry('kugetsu-v1-issue-7-303-1-t9-ses_noref', 9, 100, '')
  const mixed = [live, fromPull, fromBranch, baseOfPull, base, noRef]

  it('prune keeps the live default-branch entry however new another scope’s are, and deletes none of theirs', () => {
    const plan = planPrune(mixed, { ...SCOPE, currentBaseHash: CURRENT })
    expect(plan.deletions).toEqual([])
    expect(ids(plan.kept)).toEqual(ids([live, base]))
    expect(plan.otherScopes).toBe(4)
  })

  it('prune of a closed issue deletes its default-branch entries only', () => {
    const plan = planPrune(mixed, { ...SCOPE, currentBaseHash: CURRENT, closedIssues: [7] })
    expect(ids(plan.deletions)).toEqual(ids([live]))
  })

  it('destroy deletes the issue’s (or the base’s) default-branch entries, never another scope’s', () => {
    expect(ids(destroyPlan(mixed, SCOPE, { issueNumber: 7 }).deletions)).toEqual(ids([live]))
    expect(ids(destroyPlan(mixed, SCOPE, { base: true }).deletions)).toEqual(ids([base]))
  })

  it('an issue with entries only in other scopes is not looked up', () => {
    const other = entry('kugetsu-v1-issue-44-1-1-t1-ses_x', 1, 100, 'refs/pull/3/merge')
    expect(issueNumbersWithEntries([...mixed, other], SCOPE)).toEqual([7])
  })

  it('a scope of another branch sees that branch’s entries only', () => {
    const plan = planPrune(mixed, {
      prefix: PREFIX,
      scopeRef: 'refs/heads/feature',
      currentBaseHash: CURRENT,
      closedIssues: [7]
    })
    expect(ids(plan.deletions)).toEqual(ids([fromBranch]))
  })

  it('an empty scope ref matches nothing, not the entries without a ref', () => {
    const plan = planPrune(mixed, { prefix: PREFIX, scopeRef: '', currentBaseHash: CURRENT })
    expect(plan.kept).toEqual([])
    expect(
      destroyPlan(mixed, { prefix: PREFIX, scopeRef: '' }, { issueNumber: 7 }).deletions
    ).toEqual([])
  })
})

describe('tombstones', () => {
  const session = entry('kugetsu-v1-issue-12-200-1-t4-ses_twelve', 1, 500)
  const tombstone = entry('kugetsu-v1-issue-12-201-1-forgotten', 2, 1)

  it('destroy keeps the tombstone it just saved and deletes every other entry of the issue', () => {
    const plan = destroyPlan([session, tombstone], SCOPE, {
      issueNumber: 12,
      keep: tombstone.key.toUpperCase()
    })
    expect(ids(plan.deletions)).toEqual([session.id])
    expect(ids(plan.kept)).toEqual([tombstone.id])
  })

  it('prune keeps a closed issue’s newest tombstone, so a reopened issue does not get back what was forgotten', () => {
    const plan = planPrune([session, tombstone], {
      ...SCOPE,
      currentBaseHash: CURRENT,
      closedIssues: [12]
    })
    expect(ids(plan.deletions)).toEqual([session.id])
  })

  it('a tombstone superseded by a newer session is pruned like any older entry', () => {
    const fresh = entry('kugetsu-v1-issue-12-202-1-t1-ses_fresh', 3, 400)
    const plan = planPrune([session, tombstone, fresh], { ...SCOPE, currentBaseHash: CURRENT })
    expect(ids(plan.deletions)).toEqual([session.id, tombstone.id])
  })
})

describe('planPrune and the session index', () => {
  it('deletes every index entry but the newest, and only in the scope worked on', () => {
    const older = entry('kugetsu-v1-index-200-1', 1, 5)
    const newer = entry('kugetsu-v1-index-201-1', 2, 5)
    const elsewhere = entry('kugetsu-v1-index-199-1', 1, 5, 'refs/pull/3/merge')
    const planted = entry('kugetsu-v1-index-notes', 1, 5)
    const plan = planPrune([older, newer, elsewhere, planted], {
      ...SCOPE,
      currentBaseHash: CURRENT
    })
    expect(plan.deletions.map((d) => [d.key, d.reason])).toEqual([
      ['kugetsu-v1-index-200-1', 'superseded by kugetsu-v1-index-201-1']
    ])
    expect(plan.otherScopes).toBe(1)
  })

  it('destroy never deletes the index', () => {
    const index = entry('kugetsu-v1-index-200-1', 1, 5)
    expect(destroyPlan([index], SCOPE, { issueNumber: 200 }).deletions).toEqual([])
    expect(destroyPlan([index], SCOPE, { base: true }).deletions).toEqual([])
  })
})
