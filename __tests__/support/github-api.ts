/**
 * Loopback stand-in for the parts of the GitHub REST API an issue-replying action uses, shaped
 * like api.github.com's responses so the real octokit from `@actions/github` works against it
 * (point it here with GITHUB_API_URL, which `@actions/github` reads when it is first imported, or
 * with `getOctokit(token, { baseUrl })`).
 *
 * State lives in memory (`state`), which tests seed before a run and inspect after it. Every
 * request is recorded (`requests`) with its Authorization header. Faults (5xx, rate limits, hangs,
 * resets) are injected per route with `failNext`.
 *
 * Behaviours mirrored from GitHub:
 * - a missing Authorization header is 401 "Requires authentication"; unknown tokens are 401
 *   "Bad credentials" when `tokens` is given (otherwise any token acts as the workflow token);
 * - `GET /user` with an installation token (the workflow's GITHUB_TOKEN) is 403 "Resource not
 *   accessible by integration";
 * - the workflow token acts as `github-actions[bot]` (id 41898282, type Bot);
 * - `GET .../collaborators/{user}/permission` answers 200 for any existing user: collaborators get
 *   their role; non-collaborators get `read` on a public repository and `none` on a private one;
 *   unknown users and bots are 404 (`nonCollaborator: 'not-found'` makes non-collaborators 404 too);
 * - lists are paginated (`per_page` default 30, max 100) with RFC 5988 `Link` headers;
 * - comment bodies longer than 65536 characters are 422 Validation Failed;
 * - reacting twice with the same content returns the existing reaction with 200 instead of 201;
 * - every repository is also a git repository (see git-remote.ts) served over smart HTTP at
 *   `/<owner>/<repo>[.git]`, credentials being HTTP Basic with a token as the password; pull
 *   requests share numbers with issues and write `refs/pull/<n>/head`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import {
  CacheStore,
  FaultQueue,
  listenLoopback,
  RequestLog,
  type CacheEntry,
  type Fault
} from './cache-server.js'
import {
  GitStore,
  isGitPath,
  type GitAccess,
  type GitAuthor,
  type GitContent,
  type GitRequestRecord
} from './git-remote.js'
import {
  createRouter,
  requestRecord,
  routeMatches,
  sendJson,
  takeRequest,
  type HttpRequestRecord,
  type RouteMatch
} from './http-stand-in.js'

export type { RouteMatch } from './http-stand-in.js'

export type UserType = 'User' | 'Bot' | 'Organization'
export type RepoRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read'
export type ReactionContent =
  '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes'

const REACTIONS: ReactionContent[] = [
  '+1',
  '-1',
  'laugh',
  'hooray',
  'confused',
  'heart',
  'rocket',
  'eyes'
]
export const MAX_COMMENT_LENGTH = 65536
export const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' as const }

export interface GitHubUser {
  login: string
  id: number
  type: UserType
  siteAdmin?: boolean
}

export interface TokenIdentity {
  login: string
  /** `installation` tokens (GITHUB_TOKEN, app tokens) get 403 on GET /user. */
  kind: 'installation' | 'user'
  /** What the token may do (a fine-grained token's or an app installation's permissions). */
  permissions?: { contents?: GitAccess; pullRequests?: GitAccess }
}

export interface PullRequest {
  number: number
  id: number
  headRef: string
  /** `owner/name` of the head repository: this one, or a fork (which need not exist here). */
  headRepo: string
  headRepoId: number
  /** The head's last known commit (a same-repository head follows its branch). */
  headSha: string
  baseRef: string
  draft: boolean
  merged: boolean
  mergedAt: Date | null
  mergedBy: string | null
  mergeCommitSha: string | null
}

export interface PullRequestSeed {
  headRef: string
  baseRef?: string
  title?: string
  body?: string | null
  /** Login of the person opening it (default: the repository's owner). */
  author?: string
  draft?: boolean
  number?: number
}

export interface ForkPullRequestSeed extends Omit<PullRequestSeed, 'headRef'> {
  /** The fork's `owner/name`. */
  headRepo: string
  headRef: string
  /** The fork's changes, committed on top of the base branch (`null` deletes a file). */
  files: Record<string, string | null>
  message?: string
}

export interface Reaction {
  id: number
  content: ReactionContent
  user: string
  createdAt: Date
}

export interface Comment {
  id: number
  repo: string
  issueNumber: number
  body: string
  user: string
  createdAt: Date
  updatedAt: Date
  reactions: Reaction[]
  /** Author association override; computed from the repo otherwise. */
  authorAssociation?: string
}

export interface Issue {
  id: number
  number: number
  title: string
  body: string | null
  user: string
  state: 'open' | 'closed'
  stateReason: string | null
  labels: string[]
  locked: boolean
  isPullRequest: boolean
  /** Answer 410 Gone, as for a deleted issue. */
  deleted: boolean
  createdAt: Date
  updatedAt: Date
  closedAt: Date | null
  reactions: Reaction[]
  authorAssociation?: string
}

export interface IssueSeed {
  number?: number
  title?: string
  body?: string | null
  user?: string
  state?: 'open' | 'closed'
  labels?: string[]
  locked?: boolean
  pullRequest?: boolean
  deleted?: boolean
  createdAt?: Date
  authorAssociation?: string
}

export interface CommentSeed {
  body: string
  user?: string
  createdAt?: Date
  updatedAt?: Date
  authorAssociation?: string
}

export interface Repo {
  id: number
  owner: string
  name: string
  fullName: string
  private: boolean
  visibility: 'public' | 'private' | 'internal'
  defaultBranch: string
  issues: Map<number, Issue>
  /** Lowercased login → role. */
  collaborators: Map<string, RepoRole>
  nextIssueNumber: number
  pulls: Map<number, PullRequest>
}

export interface RepoSeed {
  private?: boolean
  visibility?: 'public' | 'private' | 'internal'
  defaultBranch?: string
  ownerType?: UserType
}

/** In-memory GitHub: users, repositories, issues, comments, reactions. */
export class GitHubState {
  readonly users = new Map<string, GitHubUser>()
  readonly repos = new Map<string, Repo>()
  readonly comments = new Map<number, Comment>()
  private nextId = 1000
  private nextUserId = 100

  constructor() {
    this.users.set(ACTIONS_BOT.login, { ...ACTIONS_BOT })
  }

  newId(): number {
    this.nextId += 1
    return this.nextId
  }

  addUser(login: string, type: UserType = 'User'): GitHubUser {
    const existing = this.users.get(login.toLowerCase())
    if (existing) return existing
    const user: GitHubUser = { login, id: (this.nextUserId += 1), type }
    this.users.set(login.toLowerCase(), user)
    return user
  }

  user(login: string): GitHubUser | undefined {
    return this.users.get(login.toLowerCase())
  }

  addRepo(fullName: string, seed: RepoSeed = {}): Repo {
    const [owner, name] = fullName.split('/')
    if (!owner || !name) throw new Error(`repository must be owner/name, got ${fullName}`)
    this.addUser(owner, seed.ownerType ?? 'User')
    const isPrivate =
      seed.private ?? (seed.visibility !== undefined && seed.visibility !== 'public')
    const repo: Repo = {
      id: this.newId(),
      owner,
      name,
      fullName,
      private: isPrivate,
      visibility: seed.visibility ?? (isPrivate ? 'private' : 'public'),
      defaultBranch: seed.defaultBranch ?? 'main',
      issues: new Map(),
      collaborators: new Map(),
      nextIssueNumber: 1,
      pulls: new Map()
    }
    this.repos.set(fullName.toLowerCase(), repo)
    return repo
  }

  repo(fullName: string): Repo | undefined {
    return this.repos.get(fullName.toLowerCase())
  }

  private requireRepo(fullName: string): Repo {
    const repo = this.repo(fullName)
    if (!repo) throw new Error(`unknown repository ${fullName}; addRepo it first`)
    return repo
  }

  addIssue(fullName: string, seed: IssueSeed = {}): Issue {
    const repo = this.requireRepo(fullName)
    const number = seed.number ?? repo.nextIssueNumber
    repo.nextIssueNumber = Math.max(repo.nextIssueNumber, number + 1)
    const user = seed.user ?? repo.owner
    this.addUser(user)
    const createdAt = seed.createdAt ?? new Date()
    const issue: Issue = {
      id: this.newId(),
      number,
      title: seed.title ?? `Issue ${number}`,
      body: seed.body === undefined ? '' : seed.body,
      user,
      state: seed.state ?? 'open',
      stateReason: seed.state === 'closed' ? 'completed' : null,
      labels: seed.labels ?? [],
      locked: seed.locked ?? false,
      isPullRequest: seed.pullRequest ?? false,
      deleted: seed.deleted ?? false,
      createdAt,
      updatedAt: createdAt,
      closedAt: seed.state === 'closed' ? createdAt : null,
      reactions: [],
      authorAssociation: seed.authorAssociation
    }
    repo.issues.set(number, issue)
    return issue
  }

  issue(fullName: string, number: number): Issue | undefined {
    return this.repo(fullName)?.issues.get(number)
  }

  pullRequest(fullName: string, number: number): PullRequest | undefined {
    return this.repo(fullName)?.pulls.get(number)
  }

  /** A repository's pull requests, oldest first. */
  pullRequests(fullName: string): PullRequest[] {
    return [...(this.repo(fullName)?.pulls.values() ?? [])].sort((a, b) => a.number - b.number)
  }

  addComment(fullName: string, issueNumber: number, seed: CommentSeed): Comment {
    const repo = this.requireRepo(fullName)
    if (!repo.issues.has(issueNumber)) throw new Error(`unknown issue ${fullName}#${issueNumber}`)
    const user = seed.user ?? ACTIONS_BOT.login
    this.addUser(user)
    const createdAt = seed.createdAt ?? new Date()
    const comment: Comment = {
      id: this.newId(),
      repo: repo.fullName,
      issueNumber,
      body: seed.body,
      user: this.user(user)?.login ?? user,
      createdAt,
      updatedAt: seed.updatedAt ?? createdAt,
      reactions: [],
      authorAssociation: seed.authorAssociation
    }
    this.comments.set(comment.id, comment)
    return comment
  }

  /** Comments on one issue, oldest first (the API's order). */
  commentsOf(fullName: string, issueNumber: number): Comment[] {
    const repo = this.repo(fullName)
    return [...this.comments.values()]
      .filter((c) => repo && c.repo === repo.fullName && c.issueNumber === issueNumber)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id)
  }

  setPermission(fullName: string, login: string, role: RepoRole): void {
    const repo = this.requireRepo(fullName)
    this.addUser(login)
    repo.collaborators.set(login.toLowerCase(), role)
  }

  /** The role a user holds: owners are admin, collaborators their role, others none. */
  roleOf(repo: Repo, login: string): RepoRole | undefined {
    if (repo.owner.toLowerCase() === login.toLowerCase()) return 'admin'
    return repo.collaborators.get(login.toLowerCase())
  }

  authorAssociation(repo: Repo, login: string): string {
    if (repo.owner.toLowerCase() === login.toLowerCase()) return 'OWNER'
    if (repo.collaborators.has(login.toLowerCase())) return 'COLLABORATOR'
    return 'NONE'
  }
}

export interface GitHubRequest extends HttpRequestRecord {
  /** Set for git smart-HTTP requests (their bodies are not recorded). */
  git?: GitRequestRecord
}

export interface GitHubApiOptions {
  /** Share the cache service stand-in's store for /actions/caches. Default: a new empty store. */
  cacheStore?: CacheStore
  /** Used for html_url fields. Default https://github.com. */
  serverUrl?: string
  /** Repositories to create up front (`owner/name`). The first is the default. */
  repos?: string[]
  /** Known tokens. Without it, any token is the workflow token (github-actions[bot]). */
  tokens?: Record<string, TokenIdentity>
  /** How non-collaborators' permission is reported. Default 'read-or-none' (GitHub's). */
  nonCollaborator?: 'read-or-none' | 'not-found'
  /** Primary rate limit budget; when it runs out requests get 403 with remaining 0. */
  rateLimit?: number
}

export interface GitHubApi {
  /** Base URL (use as GITHUB_API_URL), no trailing slash. */
  url: string
  /** A workflow-token-like token (`ghs_...`) that the stand-in accepts. */
  token: string
  state: GitHubState
  cacheStore: CacheStore
  requests: RequestLog<GitHubRequest>
  /** Resolves with the first request (already received or future) matching. */
  waitForRequest(match: (r: GitHubRequest) => boolean): Promise<GitHubRequest>
  /** Makes the next `count` matching requests fail (default 500 `{"message":"Server Error"}`). */
  failNext(route: RouteMatch, fault?: Fault): void
  /** Next matching requests get GitHub's secondary rate limit answer (403 + retry-after). */
  secondaryRateLimitNext(
    route: RouteMatch,
    options?: { retryAfter?: number; count?: number; status?: 403 | 429 }
  ): void
  clearFaults(): void
  releaseHung(): number
  /** Remaining primary rate limit budget (settable). */
  rateLimitRemaining: number
  /**
   * Settable: the caches list answers every scope's entries whatever `ref` it was given, like a
   * service that does not know the parameter, so a client's own scope filter can be proved.
   */
  cacheListIgnoresRef: boolean
  /** The repositories' content: seed, commit as a person, read. */
  git: GitContent
  /** A further token the stand-in accepts (REST and git), e.g. a read-only one. */
  addToken(identity: TokenIdentity): string
  /** Makes pushes refuse non-fast-forward updates and deletions of `branch`. */
  protectBranch(repo: string, branch: string): Promise<void>
  /** A person's pull request from a branch of the repository itself. */
  openPullRequest(repo: string, seed: PullRequestSeed): Promise<PullRequest>
  /** A pull request from a fork: its commit exists only as `refs/pull/<n>/head`. */
  openForkPullRequest(repo: string, seed: ForkPullRequestSeed): Promise<PullRequest>
  /** Merges like the merge button (base branch moves; the pull request is closed and merged). */
  mergePullRequest(
    repo: string,
    number: number,
    options?: { method?: 'merge' | 'squash'; by?: string }
  ): Promise<string>
  closePullRequest(repo: string, number: number): void
  close(): Promise<void>
}

interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  params: string[]
  json: unknown
  identity: TokenIdentity
  record: GitHubRequest
}

type Handler = (ctx: Ctx) => void | Promise<void>

export async function startGitHubApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const state = new GitHubState()
  const cacheStore = options.cacheStore ?? new CacheStore()
  const serverUrl = (options.serverUrl ?? 'https://github.com').replace(/\/$/, '')
  const token = `ghs_${randomBytes(18).toString('base64url')}`
  const requests = new RequestLog<GitHubRequest>()
  const faults = new FaultQueue<RouteMatch>((match, req) =>
    routeMatches(match, req.method ?? 'GET', (req.url ?? '/').split('?')[0])
  )
  const limit = options.rateLimit ?? 1000
  const rate = { remaining: limit, reset: Math.floor(Date.now() / 1000) + 3600 }
  const quirks = { cacheListIgnoresRef: false }
  for (const repo of options.repos ?? []) state.addRepo(repo)
  let api = ''
  const workflowIdentity: TokenIdentity = { login: ACTIONS_BOT.login, kind: 'installation' }
  const known = new Map<string, TokenIdentity>(
    options.tokens ? Object.entries(options.tokens) : [[token, workflowIdentity]]
  )
  const gitStore = new GitStore((name) => {
    const repo = state.repo(name)
    return (
      repo && {
        fullName: repo.fullName,
        owner: repo.owner,
        defaultBranch: repo.defaultBranch,
        private: repo.private
      }
    )
  })

  // ---- JSON shapes -----------------------------------------------------------------------------

  const userJson = (login: string): Record<string, unknown> => {
    const user = state.user(login) ?? state.addUser(login)
    const isBot = user.type === 'Bot'
    const slug = user.login.replace(/\[bot\]$/, '')
    return {
      login: user.login,
      id: user.id,
      node_id: nodeId(isBot ? 'BOT' : 'U', user.id),
      avatar_url: `https://avatars.githubusercontent.com/${isBot ? 'in/' : 'u/'}${user.id}?v=4`,
      gravatar_id: '',
      url: `${api}/users/${encodeURIComponent(user.login)}`,
      html_url: isBot ? `${serverUrl}/apps/${slug}` : `${serverUrl}/${user.login}`,
      type: user.type,
      user_view_type: 'public',
      site_admin: user.siteAdmin ?? false
    }
  }

  const reactionSummary = (url: string, reactions: Reaction[]): Record<string, unknown> => {
    const summary: Record<string, unknown> = { url, total_count: reactions.length }
    for (const content of REACTIONS)
      summary[content] = reactions.filter((r) => r.content === content).length
    return summary
  }

  const repoJson = (repo: Repo): Record<string, unknown> => ({
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: userJson(repo.owner),
    html_url: `${serverUrl}/${repo.fullName}`,
    description: null,
    fork: false,
    url: `${api}/repos/${repo.fullName}`,
    visibility: repo.visibility,
    default_branch: repo.defaultBranch,
    archived: false,
    disabled: false,
    has_issues: true
  })

  const issueJson = (repo: Repo, issue: Issue): Record<string, unknown> => {
    const base = `${api}/repos/${repo.fullName}/issues/${issue.number}`
    const json: Record<string, unknown> = {
      url: base,
      repository_url: `${api}/repos/${repo.fullName}`,
      labels_url: `${base}/labels{/name}`,
      comments_url: `${base}/comments`,
      events_url: `${base}/events`,
      html_url: `${serverUrl}/${repo.fullName}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`,
      id: issue.id,
      node_id: nodeId(issue.isPullRequest ? 'PR' : 'I', issue.id),
      number: issue.number,
      title: issue.title,
      user: userJson(issue.user),
      labels: issue.labels.map((name, i) => ({
        id: issue.id * 100 + i,
        node_id: nodeId('LA', issue.id * 100 + i),
        url: `${api}/repos/${repo.fullName}/labels/${encodeURIComponent(name)}`,
        name,
        color: 'ededed',
        default: false,
        description: null
      })),
      state: issue.state,
      locked: issue.locked,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: state.commentsOf(repo.fullName, issue.number).length,
      created_at: iso(issue.createdAt),
      updated_at: iso(issue.updatedAt),
      closed_at: issue.closedAt ? iso(issue.closedAt) : null,
      author_association: issue.authorAssociation ?? state.authorAssociation(repo, issue.user),
      active_lock_reason: null,
      body: issue.body,
      reactions: reactionSummary(`${base}/reactions`, issue.reactions),
      timeline_url: `${base}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.stateReason
    }
    if (issue.isPullRequest) {
      const pr = `${serverUrl}/${repo.fullName}/pull/${issue.number}`
      json.pull_request = {
        url: `${api}/repos/${repo.fullName}/pulls/${issue.number}`,
        html_url: pr,
        diff_url: `${pr}.diff`,
        patch_url: `${pr}.patch`,
        merged_at: repo.pulls.get(issue.number)?.mergedAt
          ? iso(repo.pulls.get(issue.number)?.mergedAt as Date)
          : null
      }
    }
    return json
  }

  const commentJson = (comment: Comment): Record<string, unknown> => {
    const repo = state.repo(comment.repo) as Repo
    const url = `${api}/repos/${repo.fullName}/issues/comments/${comment.id}`
    const issue = repo.issues.get(comment.issueNumber)
    const kind = issue?.isPullRequest ? 'pull' : 'issues'
    return {
      url,
      html_url: `${serverUrl}/${repo.fullName}/${kind}/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${api}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
      id: comment.id,
      node_id: nodeId('IC', comment.id),
      user: userJson(comment.user),
      created_at: iso(comment.createdAt),
      updated_at: iso(comment.updatedAt),
      author_association: comment.authorAssociation ?? state.authorAssociation(repo, comment.user),
      body: comment.body,
      reactions: reactionSummary(`${url}/reactions`, comment.reactions),
      performed_via_github_app: null
    }
  }

  const reactionJson = (reaction: Reaction): Record<string, unknown> => ({
    id: reaction.id,
    node_id: nodeId('REA', reaction.id),
    user: userJson(reaction.user),
    content: reaction.content,
    created_at: iso(reaction.createdAt)
  })

  const cacheJson = (entry: CacheEntry): Record<string, unknown> => ({
    id: entry.id,
    ref: entry.ref,
    key: entry.key,
    version: entry.version,
    last_accessed_at: entry.lastAccessedAt.toISOString(),
    created_at: entry.createdAt.toISOString(),
    size_in_bytes: entry.size
  })

  /** A fork as a pull request's head names it (forks are not repositories of the stand-in). */
  const forkJson = (base: Repo, fullName: string, id: number): Record<string, unknown> => {
    const [owner, name] = fullName.split('/')
    return {
      ...repoJson(base),
      id,
      node_id: nodeId('R', id),
      name,
      full_name: fullName,
      owner: userJson(owner),
      html_url: `${serverUrl}/${fullName}`,
      url: `${api}/repos/${fullName}`,
      fork: true
    }
  }

  /** Keeps a same-repository head in step with its branch, as GitHub does on every push. */
  const syncPull = async (repo: Repo, pr: PullRequest): Promise<void> => {
    if (pr.headRepo !== repo.fullName || pr.merged) return
    const issue = repo.issues.get(pr.number)
    if (issue?.state !== 'open') return
    const sha = await gitStore.head(repo.fullName, pr.headRef)
    if (sha && sha !== pr.headSha) {
      pr.headSha = sha
      await gitStore.setRef(repo.fullName, `refs/pull/${pr.number}/head`, sha)
    }
  }

  /** `pull-request` (full: GET and POST answers) or `pull-request-simple` (lists). */
  const pullJson = async (
    repo: Repo,
    pr: PullRequest,
    full: boolean
  ): Promise<Record<string, unknown>> => {
    await syncPull(repo, pr)
    const issue = repo.issues.get(pr.number) as Issue
    const url = `${api}/repos/${repo.fullName}/pulls/${pr.number}`
    const html = `${serverUrl}/${repo.fullName}/pull/${pr.number}`
    const issueUrl = `${api}/repos/${repo.fullName}/issues/${pr.number}`
    const baseSha = (await gitStore.head(repo.fullName, pr.baseRef)) ?? pr.headSha
    const headOwner = pr.headRepo.split('/')[0]
    const side = (ref: string, sha: string, owner: string, repoJsonValue: unknown) => ({
      label: `${owner}:${ref}`,
      ref,
      sha,
      user: userJson(owner),
      repo: repoJsonValue
    })
    const json: Record<string, unknown> = {
      url,
      id: pr.id,
      node_id: nodeId('PR', pr.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${api}/repos/${repo.fullName}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${api}/repos/${repo.fullName}/statuses/${pr.headSha}`,
      number: pr.number,
      state: issue.state,
      locked: issue.locked,
      title: issue.title,
      user: userJson(issue.user),
      body: issue.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: iso(issue.createdAt),
      updated_at: iso(issue.updatedAt),
      closed_at: issue.closedAt ? iso(issue.closedAt) : null,
      merged_at: pr.mergedAt ? iso(pr.mergedAt) : null,
      merge_commit_sha: pr.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(
        pr.headRef,
        pr.headSha,
        headOwner,
        pr.headRepo === repo.fullName ? repoJson(repo) : forkJson(repo, pr.headRepo, pr.headRepoId)
      ),
      base: side(pr.baseRef, baseSha, repo.owner, repoJson(repo)),
      _links: {
        self: { href: url },
        html: { href: html },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${url}/comments` },
        review_comment: { href: `${api}/repos/${repo.fullName}/pulls/comments{/number}` },
        commits: { href: `${url}/commits` },
        statuses: { href: `${api}/repos/${repo.fullName}/statuses/${pr.headSha}` }
      },
      author_association: issue.authorAssociation ?? state.authorAssociation(repo, issue.user),
      auto_merge: null,
      draft: pr.draft
    }
    if (!full) return json
    const open = issue.state === 'open'
    const mergeBase = open
      ? (
          await gitStore.git(repo.fullName, ['merge-base', baseSha, pr.headSha]).catch(() => '')
        ).trim()
      : ''
    const mergeable = open
      ? (await gitStore.mergeTree(repo.fullName, baseSha, pr.headSha)) !== undefined
      : null
    let additions = 0
    let deletions = 0
    let changedFiles = 0
    let commits = 0
    if (mergeBase) {
      commits = await gitStore.countBetween(repo.fullName, mergeBase, pr.headSha)
      const numstat = await gitStore.git(repo.fullName, [
        'diff',
        '--numstat',
        mergeBase,
        pr.headSha
      ])
      for (const line of numstat.split('\n').filter(Boolean)) {
        const [added, deleted] = line.split('\t')
        additions += Number(added) || 0
        deletions += Number(deleted) || 0
        changedFiles += 1
      }
    }
    return {
      ...json,
      merged: pr.merged,
      mergeable,
      rebaseable: mergeable,
      mergeable_state: !open ? 'unknown' : pr.draft ? 'draft' : mergeable ? 'clean' : 'dirty',
      merged_by: pr.mergedBy ? userJson(pr.mergedBy) : null,
      comments: state.commentsOf(repo.fullName, pr.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits,
      additions,
      deletions,
      changed_files: changedFiles
    }
  }

  const gitRefJson = (repo: Repo, ref: string, sha: string): Record<string, unknown> => ({
    ref,
    node_id: nodeId('REF', Number.parseInt(sha.slice(0, 8), 16)),
    url: `${api}/repos/${repo.fullName}/git/${ref}`,
    object: { sha, type: 'commit', url: `${api}/repos/${repo.fullName}/git/commits/${sha}` }
  })

  // ---- responses -------------------------------------------------------------------------------

  const baseHeaders = (): Record<string, string> => ({
    'content-type': 'application/json; charset=utf-8',
    'x-github-api-version-selected': '2022-11-28',
    'x-github-media-type': 'github.v3; format=json',
    'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(rate.remaining, 0)),
    'x-ratelimit-reset': String(rate.reset),
    'x-ratelimit-used': String(limit - Math.max(rate.remaining, 0)),
    'x-ratelimit-resource': 'core'
  })

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {}
  ): void => sendJson(res, status, body, { ...baseHeaders(), ...headers })

  const error = (
    res: ServerResponse,
    status: number,
    message: string,
    docs = 'https://docs.github.com/rest',
    extra: Record<string, unknown> = {}
  ): void =>
    send(res, status, { message, ...extra, documentation_url: docs, status: String(status) })

  const notFound = (res: ServerResponse, docs?: string): void => error(res, 404, 'Not Found', docs)

  const paginate = <T>(ctx: Ctx, items: T[]): T[] => {
    const perPage = Math.min(Math.max(intParam(ctx.url, 'per_page', 30), 1), 100)
    const page = Math.max(intParam(ctx.url, 'page', 1), 1)
    const last = Math.max(Math.ceil(items.length / perPage), 1)
    const link = (p: number): string => {
      const u = new URL(ctx.url.toString())
      u.searchParams.set('per_page', String(perPage))
      u.searchParams.set('page', String(p))
      return `<${api}${u.pathname}${u.search}>`
    }
    const links: string[] = []
    if (page > 1) links.push(`${link(page - 1)}; rel="prev"`)
    if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`)
    if (page > 1) links.push(`${link(1)}; rel="first"`)
    if (links.length > 0) ctx.res.setHeader('link', links.join(', '))
    return items.slice((page - 1) * perPage, page * perPage)
  }

  // ---- routes ----------------------------------------------------------------------------------

  const router = createRouter<Handler>()
  const route = router.route

  const withRepo = (ctx: Ctx): Repo | undefined => {
    const repo = state.repo(
      `${decodeURIComponent(ctx.params[0])}/${decodeURIComponent(ctx.params[1])}`
    )
    if (!repo) notFound(ctx.res, 'https://docs.github.com/rest/repos/repos#get-a-repository')
    return repo
  }

  const withIssue = (ctx: Ctx, repo: Repo, docs: string): Issue | undefined => {
    const issue = repo.issues.get(Number(ctx.params[2]))
    if (!issue) {
      notFound(ctx.res, docs)
      return undefined
    }
    if (issue.deleted) {
      error(ctx.res, 410, 'This issue was deleted', docs)
      return undefined
    }
    return issue
  }

  const withComment = (ctx: Ctx, repo: Repo, docs: string): Comment | undefined => {
    const comment = state.comments.get(Number(ctx.params[2]))
    if (!comment || comment.repo !== repo.fullName) {
      notFound(ctx.res, docs)
      return undefined
    }
    return comment
  }

  const validateBody = (ctx: Ctx, docs: string): string | undefined => {
    const body = (ctx.json as { body?: unknown } | undefined)?.body
    if (typeof body !== 'string') {
      error(ctx.res, 422, 'Invalid request.\n\n"body" wasn\'t supplied.', docs)
      return undefined
    }
    if (body.length === 0) {
      error(ctx.res, 422, 'Validation Failed', docs, {
        errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]
      })
      return undefined
    }
    if ([...body].length > MAX_COMMENT_LENGTH) {
      error(ctx.res, 422, 'Validation Failed', docs, {
        errors: [
          {
            resource: 'IssueComment',
            code: 'custom',
            field: 'body',
            message: `body is too long (maximum is ${MAX_COMMENT_LENGTH} characters)`
          }
        ]
      })
      return undefined
    }
    return body
  }

  const addReaction = (ctx: Ctx, reactions: Reaction[], docs: string): void => {
    const content = (ctx.json as { content?: unknown } | undefined)?.content
    if (typeof content !== 'string' || !REACTIONS.includes(content as ReactionContent)) {
      error(ctx.res, 422, 'Validation Failed', docs, {
        errors: [{ resource: 'Reaction', code: 'invalid', field: 'content' }]
      })
      return
    }
    const login = state.user(ctx.identity.login)?.login ?? ctx.identity.login
    const existing = reactions.find((r) => r.content === content && r.user === login)
    if (existing) {
      send(ctx.res, 200, reactionJson(existing))
      return
    }
    const reaction: Reaction = {
      id: state.newId(),
      content: content as ReactionContent,
      user: login,
      createdAt: new Date()
    }
    reactions.push(reaction)
    send(ctx.res, 201, reactionJson(reaction))
  }

  route('GET', '/user', (ctx) => {
    if (ctx.identity.kind === 'installation') {
      error(
        ctx.res,
        403,
        'Resource not accessible by integration',
        'https://docs.github.com/rest/users/users#get-the-authenticated-user'
      )
      return
    }
    send(ctx.res, 200, userJson(ctx.identity.login))
  })

  route('GET', '/users/{login}', (ctx) => {
    const user = state.user(decodeURIComponent(ctx.params[0]))
    if (!user) return notFound(ctx.res, 'https://docs.github.com/rest/users/users#get-a-user')
    send(ctx.res, 200, userJson(user.login))
  })

  route('GET', '/repos/{owner}/{repo}', (ctx) => {
    const repo = withRepo(ctx)
    if (repo) send(ctx.res, 200, repoJson(repo))
  })

  const issueDocs = 'https://docs.github.com/rest/issues/issues#get-an-issue'
  route('GET', '/repos/{owner}/{repo}/issues/{number}', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo, issueDocs)
    if (repo && issue) send(ctx.res, 200, issueJson(repo, issue))
  })

  const listCommentsDocs = 'https://docs.github.com/rest/issues/comments#list-issue-comments'
  route('GET', '/repos/{owner}/{repo}/issues/{number}/comments', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo, listCommentsDocs)
    if (!repo || !issue) return
    const since = ctx.url.searchParams.get('since')
    const comments = state
      .commentsOf(repo.fullName, issue.number)
      .filter((c) => !since || c.updatedAt.getTime() >= new Date(since).getTime())
    send(ctx.res, 200, paginate(ctx, comments).map(commentJson))
  })

  const createCommentDocs = 'https://docs.github.com/rest/issues/comments#create-an-issue-comment'
  route('POST', '/repos/{owner}/{repo}/issues/{number}/comments', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo, createCommentDocs)
    if (!repo || !issue) return
    const body = validateBody(ctx, createCommentDocs)
    if (body === undefined) return
    const comment = state.addComment(repo.fullName, issue.number, {
      body,
      user: ctx.identity.login
    })
    issue.updatedAt = comment.createdAt
    send(ctx.res, 201, commentJson(comment), {
      location: `${api}/repos/${repo.fullName}/issues/comments/${comment.id}`
    })
  })

  route('GET', '/repos/{owner}/{repo}/issues/comments', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const since = ctx.url.searchParams.get('since')
    const direction = ctx.url.searchParams.get('direction') ?? 'asc'
    const comments = [...state.comments.values()]
      .filter((c) => c.repo === repo.fullName)
      .filter((c) => !since || c.updatedAt.getTime() >= new Date(since).getTime())
      .sort(
        (a, b) =>
          (direction === 'desc' ? -1 : 1) *
          (a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id)
      )
    send(ctx.res, 200, paginate(ctx, comments).map(commentJson))
  })

  const commentDocs = 'https://docs.github.com/rest/issues/comments#get-an-issue-comment'
  route('GET', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo, commentDocs)
    if (comment) send(ctx.res, 200, commentJson(comment))
  })

  const updateCommentDocs = 'https://docs.github.com/rest/issues/comments#update-an-issue-comment'
  route('PATCH', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo, updateCommentDocs)
    if (!comment) return
    const body = validateBody(ctx, updateCommentDocs)
    if (body === undefined) return
    comment.body = body
    comment.updatedAt = new Date()
    send(ctx.res, 200, commentJson(comment))
  })

  route('DELETE', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment =
      repo &&
      withComment(ctx, repo, 'https://docs.github.com/rest/issues/comments#delete-an-issue-comment')
    if (!comment) return
    state.comments.delete(comment.id)
    send(ctx.res, 204)
  })

  const reactionDocs =
    'https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment'
  route('GET', '/repos/{owner}/{repo}/issues/comments/{id}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo, reactionDocs)
    if (!comment) return
    const content = ctx.url.searchParams.get('content')
    const reactions = comment.reactions.filter((r) => !content || r.content === content)
    send(ctx.res, 200, paginate(ctx, reactions).map(reactionJson))
  })

  route('POST', '/repos/{owner}/{repo}/issues/comments/{id}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo, reactionDocs)
    if (comment) addReaction(ctx, comment.reactions, reactionDocs)
  })

  route('DELETE', '/repos/{owner}/{repo}/issues/comments/{id}/reactions/{reaction}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo, reactionDocs)
    if (!comment) return
    const index = comment.reactions.findIndex((r) => r.id === Number(ctx.params[3]))
    if (index < 0) return notFound(ctx.res, reactionDocs)
    comment.reactions.splice(index, 1)
    send(ctx.res, 204)
  })

  const issueReactionDocs =
    'https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue'
  route('GET', '/repos/{owner}/{repo}/issues/{number}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo, issueReactionDocs)
    if (issue) send(ctx.res, 200, paginate(ctx, issue.reactions).map(reactionJson))
  })

  route('POST', '/repos/{owner}/{repo}/issues/{number}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo, issueReactionDocs)
    if (issue) addReaction(ctx, issue.reactions, issueReactionDocs)
  })

  const permissionDocs =
    'https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user'
  route('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const login = decodeURIComponent(ctx.params[2])
    const user = state.user(login)
    const role = state.roleOf(repo, login)
    if (!user || user.type === 'Bot') {
      error(ctx.res, 404, user ? `${user.login} is not a user` : 'Not Found', permissionDocs)
      return
    }
    let permission: string
    let roleName: string
    if (role) {
      permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role
      roleName = role
    } else if ((options.nonCollaborator ?? 'read-or-none') === 'not-found') {
      error(ctx.res, 404, 'Not Found', permissionDocs)
      return
    } else {
      permission = repo.private ? 'none' : 'read'
      roleName = permission
    }
    const rank = ['read', 'triage', 'write', 'maintain', 'admin'].indexOf(role ?? '')
    send(ctx.res, 200, {
      permission,
      role_name: roleName,
      user: {
        ...userJson(user.login),
        permissions: {
          admin: rank >= 4,
          maintain: rank >= 3,
          push: rank >= 2,
          triage: rank >= 1,
          pull: rank >= 0 || !repo.private
        },
        role_name: roleName
      }
    })
  })

  route('GET', '/repos/{owner}/{repo}/collaborators/{username}', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    if (state.roleOf(repo, decodeURIComponent(ctx.params[2]))) send(ctx.res, 204)
    else
      notFound(
        ctx.res,
        'https://docs.github.com/rest/collaborators/collaborators#check-if-a-user-is-a-repository-collaborator'
      )
  })

  const cachesDocs =
    'https://docs.github.com/rest/actions/cache#list-github-actions-caches-for-a-repository'
  route('GET', '/repos/{owner}/{repo}/actions/caches', (ctx) => {
    if (!withRepo(ctx)) return
    const q = ctx.url.searchParams
    const sort = q.get('sort') ?? undefined
    const direction = q.get('direction') ?? undefined
    if (sort && !['created_at', 'last_accessed_at', 'size_in_bytes'].includes(sort)) {
      error(ctx.res, 422, `Invalid sort: ${sort}`, cachesDocs)
      return
    }
    const all = cacheStore.list({
      key: q.get('key') ?? undefined,
      ref: quirks.cacheListIgnoresRef ? undefined : (q.get('ref') ?? undefined),
      sort: sort as 'created_at' | undefined,
      direction: direction === 'asc' ? 'asc' : 'desc'
    })
    send(ctx.res, 200, {
      total_count: all.length,
      actions_caches: paginate(ctx, all).map(cacheJson)
    })
  })

  const deleteCachesDocs =
    'https://docs.github.com/rest/actions/cache#delete-github-actions-caches-for-a-repository-using-a-cache-key'
  route('DELETE', '/repos/{owner}/{repo}/actions/caches', (ctx) => {
    if (!withRepo(ctx)) return
    const key = ctx.url.searchParams.get('key')
    const ref = ctx.url.searchParams.get('ref') ?? undefined
    if (!key) {
      error(ctx.res, 422, 'Invalid request.\n\n"key" wasn\'t supplied.', deleteCachesDocs)
      return
    }
    const doomed = cacheStore.committed.filter(
      (e) => e.key === key && (ref === undefined || e.ref === ref)
    )
    if (doomed.length === 0) return notFound(ctx.res, deleteCachesDocs)
    for (const entry of doomed) cacheStore.delete(entry.id)
    send(ctx.res, 200, { total_count: doomed.length, actions_caches: doomed.map(cacheJson) })
  })

  route('DELETE', '/repos/{owner}/{repo}/actions/caches/{id}', (ctx) => {
    if (!withRepo(ctx)) return
    const entry = cacheStore.get(Number(ctx.params[2]))
    if (!entry || !entry.committed) {
      return notFound(
        ctx.res,
        'https://docs.github.com/rest/actions/cache#delete-a-github-actions-cache-for-a-repository-using-a-cache-id'
      )
    }
    cacheStore.delete(entry.id)
    send(ctx.res, 204)
  })

  // ---- pull requests and refs ------------------------------------------------------------------

  const may = (identity: TokenIdentity, what: 'contents' | 'pullRequests'): boolean =>
    (identity.permissions?.[what] ?? 'write') === 'write'

  const forbidden = (ctx: Ctx, docs: string): void =>
    error(ctx.res, 403, 'Resource not accessible by integration', docs)

  const addPull = async (
    repo: Repo,
    seed: PullRequestSeed & { headRepo?: string; headSha: string; user: string }
  ): Promise<PullRequest> => {
    const issue = state.addIssue(repo.fullName, {
      number: seed.number,
      title: seed.title ?? seed.headRef,
      body: seed.body === undefined ? null : seed.body,
      user: seed.user,
      pullRequest: true
    })
    const pr: PullRequest = {
      number: issue.number,
      id: state.newId(),
      headRef: seed.headRef,
      headRepo: seed.headRepo ?? repo.fullName,
      headRepoId: seed.headRepo ? state.newId() : repo.id,
      headSha: seed.headSha,
      baseRef: seed.baseRef ?? repo.defaultBranch,
      draft: seed.draft ?? false,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null
    }
    repo.pulls.set(pr.number, pr)
    await gitStore.setRef(repo.fullName, `refs/pull/${pr.number}/head`, pr.headSha)
    return pr
  }

  const closePull = (repo: Repo, pr: PullRequest): void => {
    const issue = repo.issues.get(pr.number) as Issue
    issue.state = 'closed'
    issue.stateReason = pr.merged ? 'completed' : 'not_planned'
    issue.closedAt = new Date()
    issue.updatedAt = issue.closedAt
  }

  const requireRepo = (name: string): Repo => {
    const repo = state.repo(name)
    if (!repo) throw new Error(`unknown repository ${name}; addRepo it first`)
    return repo
  }

  const createPullDocs = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request'
  route('POST', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    if (!may(ctx.identity, 'pullRequests')) return forbidden(ctx, createPullDocs)
    const body = (ctx.json ?? {}) as Record<string, unknown>
    for (const field of ['head', 'base']) {
      if (typeof body[field] !== 'string') {
        error(ctx.res, 422, `Invalid request.\n\n"${field}" wasn't supplied.`, createPullDocs)
        return
      }
    }
    const invalid = (errors: Record<string, unknown>[]): void =>
      error(ctx.res, 422, 'Validation Failed', createPullDocs, { errors })
    if (typeof body.title !== 'string' || body.title.trim() === '') {
      return invalid([{ resource: 'Issue', code: 'missing_field', field: 'title' }])
    }
    const head = body.head as string
    const base = body.base as string
    const colon = head.indexOf(':')
    const headOwner = colon >= 0 ? head.slice(0, colon) : repo.owner
    const headRef = colon >= 0 ? head.slice(colon + 1) : head
    const headSha =
      headOwner.toLowerCase() === repo.owner.toLowerCase()
        ? await gitStore.head(repo.fullName, headRef)
        : undefined
    const baseSha = await gitStore.head(repo.fullName, base)
    if (!baseSha) return invalid([{ resource: 'PullRequest', field: 'base', code: 'invalid' }])
    if (!headSha) return invalid([{ resource: 'PullRequest', field: 'head', code: 'invalid' }])
    const existing = [...repo.pulls.values()].find(
      (pr) =>
        pr.headRepo === repo.fullName &&
        pr.headRef === headRef &&
        pr.baseRef === base &&
        repo.issues.get(pr.number)?.state === 'open'
    )
    if (existing) {
      return invalid([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${repo.owner}:${headRef}.`
        }
      ])
    }
    if ((await gitStore.countBetween(repo.fullName, baseSha, headSha)) === 0) {
      return invalid([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `No commits between ${base} and ${head}`
        }
      ])
    }
    const pr = await addPull(repo, {
      headRef,
      baseRef: base,
      headSha,
      title: body.title,
      body: typeof body.body === 'string' ? body.body : null,
      draft: body.draft === true,
      user: state.user(ctx.identity.login)?.login ?? ctx.identity.login
    })
    send(ctx.res, 201, await pullJson(repo, pr, true), {
      location: `${api}/repos/${repo.fullName}/pulls/${pr.number}`
    })
  })

  const listPullsDocs = 'https://docs.github.com/rest/pulls/pulls#list-pull-requests'
  route('GET', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const q = ctx.url.searchParams
    const wanted = q.get('state') ?? 'open'
    if (!['open', 'closed', 'all'].includes(wanted)) {
      return error(ctx.res, 422, 'Validation Failed', listPullsDocs, {
        errors: [{ resource: 'Search', field: 'state', code: 'invalid' }]
      })
    }
    // GitHub ignores a head filter that is not `owner:branch` (it lists everything): so does this.
    const head = q.get('head')
    const headFilter = head?.includes(':') ? head.toLowerCase() : undefined
    const base = q.get('base')
    const sort = q.get('sort') ?? 'created'
    const direction = q.get('direction') ?? (sort === 'created' ? 'desc' : 'asc')
    const time = (pr: PullRequest): number => {
      const issue = repo.issues.get(pr.number) as Issue
      return (sort === 'updated' ? issue.updatedAt : issue.createdAt).getTime()
    }
    const pulls = [...repo.pulls.values()]
      .filter((pr) => wanted === 'all' || repo.issues.get(pr.number)?.state === wanted)
      .filter(
        (pr) =>
          !headFilter || `${pr.headRepo.split('/')[0]}:${pr.headRef}`.toLowerCase() === headFilter
      )
      .filter((pr) => !base || pr.baseRef === base)
      .sort((a, b) => (direction === 'asc' ? 1 : -1) * (time(a) - time(b) || a.number - b.number))
    const page = paginate(ctx, pulls)
    const json: unknown[] = []
    for (const pr of page) json.push(await pullJson(repo, pr, false))
    send(ctx.res, 200, json)
  })

  const getPullDocs = 'https://docs.github.com/rest/pulls/pulls#get-a-pull-request'
  route('GET', '/repos/{owner}/{repo}/pulls/{number}', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const pr = repo.pulls.get(Number(ctx.params[2]))
    if (!pr) return notFound(ctx.res, getPullDocs)
    send(ctx.res, 200, await pullJson(repo, pr, true))
  })

  const updatePullDocs = 'https://docs.github.com/rest/pulls/pulls#update-a-pull-request'
  route('PATCH', '/repos/{owner}/{repo}/pulls/{number}', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const pr = repo.pulls.get(Number(ctx.params[2]))
    if (!pr) return notFound(ctx.res, updatePullDocs)
    if (!may(ctx.identity, 'pullRequests')) return forbidden(ctx, updatePullDocs)
    const body = (ctx.json ?? {}) as Record<string, unknown>
    const issue = repo.issues.get(pr.number) as Issue
    if (typeof body.title === 'string') issue.title = body.title
    if (typeof body.body === 'string' || body.body === null) issue.body = body.body
    if (typeof body.base === 'string') pr.baseRef = body.base
    if (body.state === 'closed' && issue.state === 'open') closePull(repo, pr)
    if (body.state === 'open' && issue.state === 'closed') {
      if (pr.merged) {
        return error(ctx.res, 422, 'Validation Failed', updatePullDocs, {
          errors: [
            {
              resource: 'PullRequest',
              code: 'custom',
              message: 'state cannot be changed. The pull request cannot be reopened.'
            }
          ]
        })
      }
      issue.state = 'open'
      issue.stateReason = 'reopened'
      issue.closedAt = null
    }
    issue.updatedAt = new Date()
    send(ctx.res, 200, await pullJson(repo, pr, true))
  })

  const getRefDocs = 'https://docs.github.com/rest/git/refs#get-a-reference'
  route('GET', '/repos/{owner}/{repo}/git/ref/{ref+}', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const ref = `refs/${decodeURIComponent(ctx.params[2])}`
    const sha = await gitStore.resolve(repo.fullName, ref)
    if (!sha || !/^refs\/(heads|tags|pull)\//.test(ref)) return notFound(ctx.res, getRefDocs)
    send(ctx.res, 200, gitRefJson(repo, ref, sha))
  })

  const deleteRefDocs = 'https://docs.github.com/rest/git/refs#delete-a-reference'
  route('DELETE', '/repos/{owner}/{repo}/git/refs/{ref+}', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    if (!may(ctx.identity, 'contents')) return forbidden(ctx, deleteRefDocs)
    const ref = `refs/${decodeURIComponent(ctx.params[2])}`
    const sha = await gitStore.resolve(repo.fullName, ref)
    if (!sha || !/^refs\/(heads|tags)\//.test(ref)) {
      return error(ctx.res, 422, 'Reference does not exist', deleteRefDocs)
    }
    const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
    if (branch === repo.defaultBranch) {
      return error(ctx.res, 422, 'Cannot delete the default branch', deleteRefDocs)
    }
    if (branch !== undefined && (await gitStore.isProtected(repo.fullName, branch))) {
      return error(ctx.res, 422, 'Cannot delete a protected branch', deleteRefDocs)
    }
    await gitStore.deleteRef(repo.fullName, ref)
    // GitHub closes the open pull requests whose head branch is deleted.
    for (const pr of repo.pulls.values()) {
      if (pr.headRepo === repo.fullName && pr.headRef === branch && !pr.merged) {
        if (repo.issues.get(pr.number)?.state === 'open') closePull(repo, pr)
      }
    }
    send(ctx.res, 204)
  })

  // ---- dispatch --------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', api)
    const method = req.method ?? 'GET'
    const record: GitHubRequest = requestRecord(req, res, url)
    if (serveGit(req, res, url, record)) return
    const taken = await takeRequest(req, res, record, {
      requests,
      faults,
      badJson: (answer) =>
        error(answer, 400, 'Problems parsing JSON', 'https://docs.github.com/rest'),
      faultBody: {
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify({ message: 'Server Error' })
      }
    })
    if (!taken) return
    const { json } = taken
    const identity = authenticate(req.headers.authorization)
    if (identity === 'missing') {
      error(res, 401, 'Requires authentication')
      return
    }
    if (identity === 'bad') {
      error(res, 401, 'Bad credentials')
      return
    }
    rate.remaining -= 1
    if (rate.remaining < 0) {
      error(
        res,
        403,
        `API rate limit exceeded for installation ID 1.`,
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api'
      )
      return
    }
    const found = router.find(method, url.pathname)
    if (!found) return notFound(res)
    await found.handler({ req, res, url, params: found.params, json, identity, record })
  }

  const authenticate = (header: string | undefined): TokenIdentity | 'missing' | 'bad' => {
    if (!header) return 'missing'
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header)
    if (!match) return 'bad'
    const identity = known.get(match[1])
    if (identity) return identity
    return options.tokens ? 'bad' : workflowIdentity
  }

  /** Git smart-HTTP requests: recorded (no body), faults applied, then the git store serves. */
  const serveGit = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    record: GitHubRequest
  ): boolean => {
    if (!isGitPath(url.pathname)) return false
    const fault = faults.take(req)
    if (fault) {
      record.fault = true
      requests.record(record)
      req.resume()
      faults.apply(fault, res, () => ({ contentType: 'text/plain', body: 'Server Error\n' }))
      return true
    }
    return gitStore.serve(
      req,
      res,
      url,
      (candidate) => {
        const identity = known.get(candidate)
        return (
          identity && { login: identity.login, contents: identity.permissions?.contents ?? 'write' }
        )
      },
      (git) => {
        record.git = git
        requests.record(record)
      }
    )
  }

  const loopback = await listenLoopback((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, `stand-in error: ${String(e)}`)
      else res.destroy()
    })
  })
  api = loopback.url

  return {
    url: api,
    token: options.tokens ? (Object.keys(options.tokens)[0] ?? token) : token,
    state,
    cacheStore,
    requests,
    waitForRequest: (match) => requests.waitFor(match),
    failNext: (match, fault) => void faults.add(match, fault),
    secondaryRateLimitNext: (match, opts = {}) =>
      void faults.add(match, {
        count: opts.count ?? 1,
        status: opts.status ?? 403,
        headers: { ...baseHeaders(), 'retry-after': String(opts.retryAfter ?? 60) },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
          documentation_url:
            'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: String(opts.status ?? 403)
        }
      }),
    clearFaults: () => faults.clear(),
    releaseHung: () => faults.releaseHung(),
    get rateLimitRemaining() {
      return rate.remaining
    },
    set rateLimitRemaining(value: number) {
      rate.remaining = value
    },
    get cacheListIgnoresRef() {
      return quirks.cacheListIgnoresRef
    },
    set cacheListIgnoresRef(value: boolean) {
      quirks.cacheListIgnoresRef = value
    },
    git: gitStore,
    addToken(identity) {
      const value = `${identity.kind === 'installation' ? 'ghs' : 'github_pat'}_${randomBytes(18).toString('base64url')}`
      known.set(value, identity)
      return value
    },
    protectBranch: (repo, branch) => gitStore.protectBranch(repo, branch),
    async openPullRequest(name, seed) {
      const repo = requireRepo(name)
      const headSha = await gitStore.head(repo.fullName, seed.headRef)
      if (!headSha) throw new Error(`${repo.fullName} has no branch ${seed.headRef}`)
      return addPull(repo, { ...seed, headSha, user: seed.author ?? repo.owner })
    },
    async openForkPullRequest(name, seed) {
      const repo = requireRepo(name)
      const forkOwner = seed.headRepo.split('/')[0]
      const user = seed.author ?? forkOwner
      const baseRef = seed.baseRef ?? repo.defaultBranch
      const parent = await gitStore.head(repo.fullName, baseRef)
      if (!parent) throw new Error(`${repo.fullName} has no branch ${baseRef}; seed it first`)
      const headSha = await gitStore.commitObject(repo.fullName, parent, seed.files, {
        author: { name: user, email: `${user}@users.noreply.github.com` },
        message: seed.message ?? seed.title ?? 'Changes from a fork'
      })
      return addPull(repo, { ...seed, baseRef, headSha, user })
    },
    async mergePullRequest(name, number, opts = {}) {
      const repo = requireRepo(name)
      const pr = repo.pulls.get(number)
      const issue = repo.issues.get(number)
      if (!pr || !issue) throw new Error(`${repo.fullName} has no pull request #${number}`)
      if (pr.merged || issue.state !== 'open') throw new Error(`#${number} is not open`)
      await syncPull(repo, pr)
      const base = await gitStore.head(repo.fullName, pr.baseRef)
      if (!base) throw new Error(`${repo.fullName} has no branch ${pr.baseRef}`)
      const tree = await gitStore.mergeTree(repo.fullName, base, pr.headSha)
      if (!tree) throw new Error(`#${number} conflicts with ${pr.baseRef}`)
      const by = opts.by ?? repo.owner
      const author: GitAuthor = { name: by, email: `${by}@users.noreply.github.com` }
      const sha =
        (opts.method ?? 'merge') === 'merge'
          ? await gitStore.commitTree(
              repo.fullName,
              tree,
              [base, pr.headSha],
              `Merge pull request #${number} from ${pr.headRepo.split('/')[0]}/${pr.headRef}\n\n${issue.title}`,
              author
            )
          : await gitStore.commitTree(
              repo.fullName,
              tree,
              [base],
              `${issue.title} (#${number})`,
              author
            )
      await gitStore.git(repo.fullName, ['update-ref', `refs/heads/${pr.baseRef}`, sha, base])
      pr.merged = true
      pr.mergedAt = new Date()
      pr.mergedBy = by
      pr.mergeCommitSha = sha
      closePull(repo, pr)
      return sha
    },
    closePullRequest(name, number) {
      const repo = requireRepo(name)
      const pr = repo.pulls.get(number)
      if (!pr) throw new Error(`${repo.fullName} has no pull request #${number}`)
      closePull(repo, pr)
    },
    close: async () => {
      await loopback.close()
      gitStore.close()
    }
  }
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(String(id)).toString('base64url')}`
}

function intParam(url: URL, name: string, fallback: number): number {
  const value = Number.parseInt(url.searchParams.get(name) ?? '', 10)
  return Number.isFinite(value) ? value : fallback
}
