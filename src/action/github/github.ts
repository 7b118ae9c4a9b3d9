import { KugetsuError, errorMessage } from '../../errors.js'
import type { PermissionAnswer } from './access.js'
import { permissionFromResponse } from './authorize.js'
import type { IssueInfo, RepoContext } from './event.js'
import { installRetry, type RetryOptions } from './github-retry.js'
import type { CacheEntryInfo } from '../sessions/listing.js'
import { threadCommentsFromApi, type ThreadComment } from '../conversation/thread.js'
import { pullRequestInfo, type PullRequestInfo } from '../work/pull-request-info.js'
import { isGiteaFamily, type Forge } from './forge.js'
import { giteaWork } from './gitea-work.js'

/**
 * The GitHub REST calls the action makes, for one repository, with retries on 5xx and rate limits
 * (github-retry.ts). `@actions/github` is loaded on first use, so a run that needs no API call
 * (a skipped event) never loads it.
 */
export interface GitHub {
  /** What the permission endpoint says about the login (see access.ts for the fallback). */
  permission(login: string): Promise<PermissionAnswer>
  /**
   * Logins of the repository's assignees (on Gitea and Forgejo: the users with write access),
   * fetched once per client (one run) and shared; a failed fetch is tried again next call.
   */
  assignees(): Promise<string[]>
  /** Reactions are created without reading the answer: Gitea and Forgejo send no id. */
  reactToComment(commentId: number, content: 'eyes'): Promise<void>
  /** The issue (or pull request); IssueNotFoundError when it does not exist or was deleted. */
  issue(number: number, ref: string): Promise<IssueInfo>
  /** Whether an issue is closed, or gone (deleted or transferred). */
  isClosed(number: number): Promise<boolean>
  /** The issue's comments, oldest first; with `since` (ISO 8601) only those updated from then on. */
  comments(number: number, since?: string): Promise<ThreadComment[]>
  /** The repository's issue comments last edited at or after `since` (ISO 8601), every issue. */
  commentsSince(since: string): Promise<ThreadComment[]>
  createComment(number: number, body: string): Promise<PostedComment>
  updateComment(commentId: number, body: string): Promise<PostedComment>
  /** The repository's default branch (one call; no ref, the bare name). */
  defaultBranch(): Promise<string>
  /**
   * The repository's Actions cache entries whose key starts with `keyPrefix`, of the `ref` scope
   * (`refs/heads/main`) when given. The service is asked to filter; callers filter again.
   */
  cacheEntries(keyPrefix: string, ref?: string): Promise<CacheEntryInfo[]>
  /** Deletes one cache entry; one already gone counts as deleted. */
  deleteCacheEntry(id: number, key: string): Promise<void>
  /** The pull request; IssueNotFoundError when there is none with that number. */
  pullRequest(number: number): Promise<PullRequestInfo>
  /** Pull requests from `branch` of this repository, newest first (`state` as the API takes it). */
  pullRequestsFrom(branch: string, state: 'open' | 'all'): Promise<PullRequestInfo[]>
  createPullRequest(request: NewPullRequest): Promise<PullRequestInfo>
  /** The commit a branch points at; undefined when there is no such branch. */
  branchHead(branch: string): Promise<string | undefined>
  /** Deletes a branch; false when it did not exist. */
  deleteBranch(branch: string): Promise<boolean>
  /** Who the token acts as, when the API says (a personal token); undefined for an app's token. */
  tokenUser(): Promise<{ login: string; id: number; email?: string } | undefined>
}

export interface NewPullRequest {
  title: string
  head: string
  base: string
  body: string
  draft: boolean
}

export interface PostedComment {
  id: number
  url: string
}

/** The issue a manual run names cannot be read: there is nothing to comment on. */
export class IssueNotFoundError extends KugetsuError {
  constructor(message: string) {
    super('not-found', message)
  }
}

type Octokit = ReturnType<(typeof import('@actions/github'))['getOctokit']>

const statusOf = (error: unknown) => (error as { status?: unknown }).status

export function createGitHub(options: {
  token: string
  apiUrl: string
  repo: Pick<RepoContext, 'owner' | 'repo'>
  log?: (message: string) => void
  retry?: RetryOptions
  /** The forge (default github): Gitea and Forgejo differ in pull requests and branches. */
  forge?: Forge
  /**
   * Applied to every comment body before it is sent (secret values to `***`): comments are
   * public, and the agent's text may quote a key it saw.
   */
  redact?: (text: string) => string
}): GitHub {
  const redact = options.redact ?? ((text: string) => text)
  let client: Promise<Octokit> | undefined
  const octokit = (): Promise<Octokit> => {
    if (!options.token) {
      return Promise.reject(
        new KugetsuError(
          'invalid-input',
          'github-token is empty; pass ${{ github.token }} or a token with issues: write'
        )
      )
    }
    client ??= import('@actions/github').then(({ getOctokit }) =>
      installRetry(getOctokit(options.token, { baseUrl: options.apiUrl }), {
        log: options.log,
        ...options.retry
      })
    )
    return client
  }
  const { owner, repo } = options.repo
  const self = `${owner}/${repo}`.toLowerCase()
  let assignees: Promise<string[]> | undefined
  const listAssignees = async (): Promise<string[]> => {
    const client = await octokit()
    const data = await client.paginate(client.rest.issues.listAssignees, {
      owner,
      repo,
      per_page: 100
    })
    return data.map((user) => user?.login).filter((login): login is string => !!login)
  }

  const github: GitHub = {
    async permission(login) {
      try {
        const { data } = await (
          await octokit()
        ).rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login })
        return { kind: 'permission', permission: permissionFromResponse(data) }
      } catch (error) {
        if (statusOf(error) === 404) return { kind: 'not-found' }
        if (statusOf(error) === 403) return { kind: 'refused', message: errorMessage(error) }
        throw error
      }
    },

    assignees() {
      // One list per run, shared by every lookup that needs it (the gate, then each trust label);
      // a failed fetch is forgotten, so a later lookup asks again rather than seeing no one.
      assignees ??= listAssignees().catch((error: unknown) => {
        assignees = undefined
        throw error
      })
      return assignees
    },

    async reactToComment(commentId, content) {
      await (
        await octokit()
      ).rest.reactions.createForIssueComment({ owner, repo, comment_id: commentId, content })
    },

    async issue(number, ref) {
      const { data } = await (
        await octokit()
      ).rest.issues
        .get({ owner, repo, issue_number: number })
        .catch((error: unknown) => {
          const status = statusOf(error)
          if (status === 404) {
            throw new IssueNotFoundError(`${ref} does not exist (or github-token cannot read it)`)
          }
          if (status === 410) throw new IssueNotFoundError(`${ref} was deleted`)
          throw new Error(`cannot read ${ref} from the GitHub API: ${errorMessage(error)}`, {
            cause: error
          })
        })
      return {
        number: data.number,
        title: data.title,
        body: data.body ?? '',
        url: data.html_url,
        author: data.user?.login ?? 'unknown',
        isPullRequest: data.pull_request !== undefined && data.pull_request !== null
      }
    },

    async isClosed(number) {
      try {
        const { data } = await (
          await octokit()
        ).rest.issues.get({
          owner,
          repo,
          issue_number: number
        })
        return data.state === 'closed'
      } catch (error) {
        const status = statusOf(error)
        if (status === 404 || status === 410) return true
        throw error
      }
    },

    async comments(number, since) {
      const client = await octokit()
      const data = await client.paginate(client.rest.issues.listComments, {
        owner,
        repo,
        issue_number: number,
        ...(since === undefined ? {} : { since }),
        per_page: 100
      })
      return threadCommentsFromApi(data)
    },

    async commentsSince(since) {
      const client = await octokit()
      const data = await client.paginate(client.rest.issues.listCommentsForRepo, {
        owner,
        repo,
        since,
        per_page: 100
      })
      return threadCommentsFromApi(data)
    },

    async createComment(number, body) {
      const { data } = await (
        await octokit()
      ).rest.issues.createComment({ owner, repo, issue_number: number, body: redact(body) })
      return { id: data.id, url: data.html_url }
    },

    async updateComment(commentId, body) {
      const { data } = await (
        await octokit()
      ).rest.issues.updateComment({ owner, repo, comment_id: commentId, body: redact(body) })
      return { id: data.id, url: data.html_url }
    },

    async defaultBranch() {
      try {
        const { data } = await (await octokit()).rest.repos.get({ owner, repo })
        return data.default_branch
      } catch (error) {
        throw new KugetsuError(
          'no-default-branch',
          `cannot read the default branch of ${owner}/${repo}: ${errorMessage(error)} (github-token must be able to read the repository)`,
          { cause: error }
        )
      }
    },

    async cacheEntries(keyPrefix, ref) {
      const client = await octokit()
      const caches = await client.paginate(client.rest.actions.getActionsCacheList, {
        owner,
        repo,
        key: keyPrefix,
        ...(ref === undefined ? {} : { ref }),
        per_page: 100
      })
      return caches.map((entry) => ({
        id: entry.id ?? 0,
        key: entry.key ?? '',
        ref: entry.ref ?? '',
        createdAt: entry.created_at ?? '',
        lastAccessedAt: entry.last_accessed_at ?? entry.created_at ?? '',
        sizeBytes: entry.size_in_bytes ?? 0
      }))
    },

    async pullRequest(number) {
      try {
        const { data } = await (
          await octokit()
        ).rest.pulls.get({ owner, repo, pull_number: number })
        return pullRequestInfo(data)
      } catch (error) {
        if (statusOf(error) === 404) {
          throw new IssueNotFoundError(`pull request #${number} does not exist`)
        }
        throw error
      }
    },

    async pullRequestsFrom(branch, state) {
      const client = await octokit()
      const data = await client.paginate(client.rest.pulls.list, {
        owner,
        repo,
        head: `${owner}:${branch}`,
        state,
        sort: 'created',
        direction: 'desc',
        per_page: 100
      })
      return data
        .map(pullRequestInfo)
        .filter((pull) => pull.headRef === branch && pull.headRepo?.toLowerCase() === self)
        .sort((a, b) => b.number - a.number)
    },

    async createPullRequest(request) {
      const { data } = await (
        await octokit()
      ).rest.pulls.create({
        owner,
        repo,
        ...request,
        title: redact(request.title),
        body: redact(request.body)
      })
      return pullRequestInfo(data)
    },

    async branchHead(branch) {
      try {
        const { data } = await (
          await octokit()
        ).rest.git.getRef({ owner, repo, ref: `heads/${branch}` })
        return data.object.sha
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    },

    async deleteBranch(branch) {
      try {
        await (await octokit()).rest.git.deleteRef({ owner, repo, ref: `heads/${branch}` })
        return true
      } catch (error) {
        if (statusOf(error) === 422 || statusOf(error) === 404) return false
        throw error
      }
    },

    async tokenUser() {
      try {
        const { data } = await (await octokit()).rest.users.getAuthenticated()
        return {
          login: data.login,
          id: data.id,
          ...(typeof data.email === 'string' && data.email ? { email: data.email } : {})
        }
      } catch (error) {
        if (statusOf(error) === 403 || statusOf(error) === 401 || statusOf(error) === 404)
          return undefined
        throw error
      }
    },

    async deleteCacheEntry(id, key) {
      try {
        await (await octokit()).rest.actions.deleteActionsCacheById({ owner, repo, cache_id: id })
      } catch (error) {
        if (statusOf(error) === 404) return
        throw new KugetsuError(
          'opencode-failed',
          `could not delete the cache entry ${key}: ${errorMessage(error)} (the token needs actions: write)`,
          { cause: error }
        )
      }
    }
  }
  // Where the forges differ in kugetsu's work product, decided here once.
  return isGiteaFamily(options.forge ?? 'github')
    ? { ...github, ...giteaWork({ octokit, owner, repo, redact }) }
    : github
}
