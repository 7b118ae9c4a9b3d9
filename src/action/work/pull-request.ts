/**
 * The pull request of a branch kugetsu pushes to: the open one when there is one, else a new one
 * once the branch has something to merge.
 */
import { errorMessage } from '../../errors.js'
import type { GitHub } from '../github/github.js'
import type { PullRequestMode } from '../inputs.js'
import type { PullRequestInfo } from './pull-request-info.js'

export interface PullRequestRequest {
  mode: PullRequestMode
  branch: string
  base: string
  issue: { number: number; title: string }
  /** The branch exists on the remote (this turn or an earlier one pushed it). */
  pushed: boolean
  /**
   * This turn pushed a commit: a pull request is opened when none is open. A turn that pushed
   * nothing reports the open one only (a closed one stays closed, a merged one merged).
   */
  mayOpen: boolean
}

export function pullRequestBody(issueNumber: number, branch: string): string {
  return [
    `Closes #${issueNumber}`,
    '',
    `kugetsu's work on #${issueNumber}. Every \`/kugetsu\` turn on #${issueNumber} (or on this pull request) continues the same session and pushes to \`${branch}\`.`
  ].join('\n')
}

export async function ensurePullRequest(
  github: Pick<GitHub, 'pullRequestsFrom' | 'createPullRequest'>,
  request: PullRequestRequest
): Promise<{ pull?: PullRequestInfo; note?: string } | undefined> {
  if (!request.pushed) return undefined
  const [open] = await github.pullRequestsFrom(request.branch, 'open')
  if (open) return { pull: open }
  if (request.mode === 'none' || !request.mayOpen) return undefined
  const title = request.issue.title.trim() || `kugetsu: #${request.issue.number}`
  const create = (draft: boolean) =>
    github.createPullRequest({
      title,
      head: request.branch,
      base: request.base,
      body: pullRequestBody(request.issue.number, request.branch),
      draft
    })
  try {
    return { pull: await create(request.mode === 'draft') }
  } catch (error) {
    const message = errorMessage(error)
    if (/no commits between/i.test(message)) return undefined
    if (/not permitted to create/i.test(message)) {
      return {
        note: `The pull request could not be opened: this repository does not let GitHub Actions create pull requests (Settings → Actions → General → "Allow GitHub Actions to create and approve pull requests"), or pass a GitHub App token as github-token. The work is on \`${request.branch}\`.`
      }
    }
    // Draft pull requests are not available on every plan: a ready one is better than none.
    if (request.mode === 'draft' && /draft/i.test(message)) {
      return {
        pull: await create(false),
        note: 'Draft pull requests are not available in this repository: the pull request was opened as ready for review.'
      }
    }
    throw error
  }
}
