/**
 * The pull request and branch calls of kugetsu's work product on Gitea and Forgejo, whose API
 * differs from GitHub's there (routers/api/v1/repo/pull.go, branch.go; modules/structs/pull.go).
 */
import type { GitHub } from './github.js'
import { isWipTitle, pullRequestInfo } from '../work/pull-request-info.js'

type Octokit = ReturnType<(typeof import('@actions/github'))['getOctokit']>

/** A draft is opened with a `WIP:` title (Gitea has no draft flag; see isWipTitle). */
export function draftTitle(title: string): string {
  return isWipTitle(title) ? title : `WIP: ${title}`
}

/** A branch name as a path: Gitea's `/branches/*` takes the slashes as they are. */
const branchPath = (branch: string): string => branch.split('/').map(encodeURIComponent).join('/')

const statusOf = (error: unknown) => (error as { status?: unknown }).status

/** Gitea's page size limit (MAX_RESPONSE_ITEMS, 50 by default). */
const PAGE = 50

export function giteaWork(options: {
  octokit: () => Promise<Octokit>
  owner: string
  repo: string
  redact: (text: string) => string
}): Pick<GitHub, 'pullRequestsFrom' | 'createPullRequest' | 'branchHead' | 'deleteBranch'> {
  const { octokit, owner, repo, redact } = options
  const self = `${owner}/${repo}`.toLowerCase()
  return {
    // No `head=` filter: the repository's pull requests are listed and those from this
    // repository's `branch` kept (a fork's branch of the same name is not ours).
    async pullRequestsFrom(branch, state) {
      const client = await octokit()
      const data = await client.paginate<unknown>('GET /repos/{owner}/{repo}/pulls', {
        owner,
        repo,
        state,
        limit: PAGE
      })
      return data
        .map(pullRequestInfo)
        .filter((pull) => pull.headRef === branch && pull.headRepo?.toLowerCase() === self)
        .sort((a, b) => b.number - a.number)
    },

    async createPullRequest(request) {
      const title = redact(request.title)
      const { data } = await (
        await octokit()
      ).request('POST /repos/{owner}/{repo}/pulls', {
        owner,
        repo,
        head: request.head,
        base: request.base,
        title: request.draft ? draftTitle(title) : title,
        body: redact(request.body)
      })
      return pullRequestInfo(data)
    },

    async branchHead(branch) {
      try {
        const { data } = await (
          await octokit()
        ).request(`GET /repos/{owner}/{repo}/branches/${branchPath(branch)}`, { owner, repo })
        const sha = (data as { commit?: { id?: unknown } }).commit?.id
        return typeof sha === 'string' ? sha : undefined
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    },

    async deleteBranch(branch) {
      try {
        await (
          await octokit()
        ).request(`DELETE /repos/{owner}/{repo}/branches/${branchPath(branch)}`, { owner, repo })
        return true
      } catch (error) {
        if (statusOf(error) === 404) return false
        throw error
      }
    }
  }
}
