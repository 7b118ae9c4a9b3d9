/**
 * What destroy does with an issue's branch: nothing, unless `delete-branch` is on and the
 * branch's pull request was merged or closed with the branch as it still is. A branch holding
 * commits that no pull request took is never deleted.
 */
import type { GitHub } from '../github/github.js'
import { issueBranch } from '../work/target.js'

export type BranchOutcome =
  { deleted: true; branch: string } | { deleted: false; branch: string; reason: string }

export async function deleteIssueBranch(
  github: Pick<GitHub, 'pullRequestsFrom' | 'branchHead' | 'deleteBranch'>,
  prefix: string,
  issueNumber: number
): Promise<BranchOutcome> {
  const branch = issueBranch(prefix, issueNumber)
  const head = await github.branchHead(branch)
  if (!head) return { deleted: false, branch, reason: 'it does not exist' }
  const [newest] = await github.pullRequestsFrom(branch, 'all')
  if (!newest) return { deleted: false, branch, reason: 'no pull request took its commits' }
  if (newest.state === 'open') {
    return { deleted: false, branch, reason: `its pull request #${newest.number} is open` }
  }
  if (newest.headSha !== head) {
    return {
      deleted: false,
      branch,
      reason: `it has commits pushed after #${newest.number} was ${newest.merged ? 'merged' : 'closed'}`
    }
  }
  if (!(await github.deleteBranch(branch))) {
    return { deleted: false, branch, reason: 'it was already gone' }
  }
  return { deleted: true, branch }
}
