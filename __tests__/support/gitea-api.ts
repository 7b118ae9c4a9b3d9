/**
 * Loopback stand-in for a Gitea (or Forgejo) instance as an Actions job sees it: the REST API
 * under `/api/v1`, the repositories over smart HTTP at `/<owner>/<repo>.git`, the event payloads
 * its Actions build, and the environment its runner gives a step. Written from Gitea's API
 * description (routers/api/v1, modules/structs, services/actions), not from the GitHub stand-in:
 * where the forges differ, this one answers like Gitea.
 *
 * Behaviours mirrored from Gitea:
 * - tokens are sent as `Authorization: token …` or `Bearer …` (Basic for git); a request without
 *   one may read a public repository; an unknown token is 401;
 * - the job token acts as the Actions user (`gitea-actions`, on Forgejo `forgejo-actions`, id -2),
 *   with write access to its own repository and never admin;
 * - `GET …/collaborators/{user}/permission` is 403 unless the caller is a site admin, an admin of
 *   the repository, or the user asked about; then 404 for an unknown user, else
 *   `{permission, role_name, user}` with access none | read | write | admin | owner;
 * - `GET …/collaborators/{user}` is 204 for a direct collaborator (any access, read included),
 *   404 otherwise (team members are not collaborators), 422 for an unknown user;
 * - `GET …/assignees` lists every user with write access or more: owner, collaborators, team
 *   members;
 * - reactions are created with `{"content": "eyes"}` and answered 201 (new) or 200 (already
 *   there) with `{user, content, created_at}`: no id; contents outside the instance's allowed
 *   list are 403;
 * - issue comments are listed whole (no pagination), with X-Total-Count; no author_association
 *   anywhere; users have no `type`;
 * - no caches REST API and no GraphQL (both 404);
 * - payloads: `issue_comment` carries `is_pull`, and its `repository.permissions` are the
 *   commenter's; `issues` (closed) carries the issue author's permissions, not the closer's;
 *   `workflow_dispatch` carries all-false permissions (services/actions/notifier.go, workflow.go).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { ActionEvent } from './action-runner.js'
import { FaultQueue, listenLoopback, RequestLog, type Fault } from './cache-server.js'
import { GitStore, isGitPath, type GitContent, type GitRequestRecord } from './git-remote.js'
import {
  createRouter,
  requestRecord,
  routeMatches,
  sendJson,
  takeRequest,
  type HttpRequestRecord
} from './http-stand-in.js'

export type GiteaForge = 'gitea' | 'forgejo'
/** A repository access mode, as Gitea names them (`owner` only for the repository's owner). */
export type AccessMode = 'none' | 'read' | 'write' | 'admin' | 'owner'
/** Gitea's default `[ui] REACTIONS`. */
export type GiteaReactionContent =
  '+1' | '-1' | 'laugh' | 'hooray' | 'confused' | 'heart' | 'rocket' | 'eyes'
const REACTIONS: readonly string[] = [
  '+1',
  '-1',
  'laugh',
  'hooray',
  'confused',
  'heart',
  'rocket',
  'eyes'
]
const RANK: Record<AccessMode, number> = { none: 0, read: 1, write: 2, admin: 3, owner: 4 }

/** The user Actions jobs act as, per forge (`ActionsUserID` is -2 on both). */
export const ACTIONS_USERS = {
  gitea: { login: 'gitea-actions', id: -2, email: 'teabot@gitea.io' },
  forgejo: { login: 'forgejo-actions', id: -2, email: 'noreply@forgejo.org' }
} as const

export interface GiteaUser {
  login: string
  id: number
  /** Shown only to the user themself (Gitea keeps addresses private by default). */
  email?: string
  isAdmin: boolean
  /** An organization (owns repositories, has teams). */
  isOrg: boolean
}

export interface GiteaReaction {
  id: number
  content: GiteaReactionContent
  user: string
  createdAt: Date
}

/** Shaped so a world can treat it like the GitHub stand-in's comments. */
export interface GiteaComment {
  id: number
  repo: string
  issueNumber: number
  body: string
  user: string
  createdAt: Date
  updatedAt: Date
  reactions: GiteaReaction[]
}

export interface GiteaIssue {
  id: number
  number: number
  title: string
  body: string
  user: string
  state: 'open' | 'closed'
  isPull: boolean
  createdAt: Date
  updatedAt: Date
  closedAt: Date | null
  reactions: GiteaReaction[]
}

/** A pull request as Gitea keeps it (models/issues/pull.go): its issue has the same number. */
export interface GiteaPull {
  number: number
  id: number
  headBranch: string
  /** `owner/name` of the head repository: this one, or a fork (which need not exist here). */
  headRepo: string
  headRepoId: number
  baseBranch: string
  merged: boolean
  mergedAt: Date | null
  mergedBy: string | null
  mergeCommitSha: string | null
}

export interface GiteaRepo {
  id: number
  owner: string
  name: string
  fullName: string
  private: boolean
  defaultBranch: string
  issues: Map<number, GiteaIssue>
  pulls: Map<number, GiteaPull>
  /** Lowercased login → direct collaborator's access. */
  collaborators: Map<string, 'read' | 'write' | 'admin'>
  /** Team name → its access to this repository and its members (lowercased logins). */
  teams: Map<string, { access: 'read' | 'write' | 'admin'; members: Set<string> }>
  nextIssueNumber: number
}

/** In-memory Gitea: users, repositories, issues, comments, reactions, who may do what. */
export class GiteaState {
  readonly users = new Map<string, GiteaUser>()
  readonly repos = new Map<string, GiteaRepo>()
  readonly comments = new Map<number, GiteaComment>()
  readonly actionsUser: GiteaUser
  private nextId = 5000
  private nextUserId = 10

  constructor(forge: GiteaForge = 'gitea') {
    this.actionsUser = { ...ACTIONS_USERS[forge], isAdmin: false, isOrg: false }
    this.users.set(this.actionsUser.login, this.actionsUser)
  }

  newId(): number {
    return (this.nextId += 1)
  }

  addUser(login: string, options: { isAdmin?: boolean; isOrg?: boolean } = {}): GiteaUser {
    const existing = this.users.get(login.toLowerCase())
    if (existing) return existing
    const user = {
      login,
      id: (this.nextUserId += 1),
      isAdmin: options.isAdmin ?? false,
      isOrg: options.isOrg ?? false
    }
    this.users.set(login.toLowerCase(), user)
    return user
  }

  user(login: string): GiteaUser | undefined {
    return this.users.get(login.toLowerCase())
  }

  addRepo(
    fullName: string,
    seed: { private?: boolean; defaultBranch?: string; org?: boolean } = {}
  ): GiteaRepo {
    const [owner, name] = fullName.split('/')
    if (!owner || !name) throw new Error(`repository must be owner/name, got ${fullName}`)
    this.addUser(owner, { isOrg: seed.org })
    const repo: GiteaRepo = {
      id: this.newId(),
      owner,
      name,
      fullName,
      private: seed.private ?? false,
      defaultBranch: seed.defaultBranch ?? 'main',
      issues: new Map(),
      pulls: new Map(),
      collaborators: new Map(),
      teams: new Map(),
      nextIssueNumber: 1
    }
    this.repos.set(fullName.toLowerCase(), repo)
    return repo
  }

  repo(fullName: string): GiteaRepo | undefined {
    return this.repos.get(fullName.toLowerCase())
  }

  private requireRepo(fullName: string): GiteaRepo {
    const repo = this.repo(fullName)
    if (!repo) throw new Error(`unknown repository ${fullName}; addRepo it first`)
    return repo
  }

  addIssue(
    fullName: string,
    seed: { number?: number; title?: string; body?: string; user?: string; pull?: boolean } = {}
  ): GiteaIssue {
    const repo = this.requireRepo(fullName)
    const number = seed.number ?? repo.nextIssueNumber
    repo.nextIssueNumber = Math.max(repo.nextIssueNumber, number + 1)
    const user = this.addUser(seed.user ?? repo.owner).login
    const now = new Date()
    const issue: GiteaIssue = {
      id: this.newId(),
      number,
      title: seed.title ?? `Issue ${number}`,
      body: seed.body ?? '',
      user,
      state: 'open',
      isPull: seed.pull ?? false,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      reactions: []
    }
    repo.issues.set(number, issue)
    return issue
  }

  issue(fullName: string, number: number): GiteaIssue | undefined {
    return this.repo(fullName)?.issues.get(number)
  }

  addComment(
    fullName: string,
    issueNumber: number,
    seed: { body: string; user?: string; createdAt?: Date }
  ): GiteaComment {
    const repo = this.requireRepo(fullName)
    if (!repo.issues.has(issueNumber)) throw new Error(`unknown issue ${fullName}#${issueNumber}`)
    const user = this.addUser(seed.user ?? this.actionsUser.login).login
    const createdAt = seed.createdAt ?? new Date()
    const comment: GiteaComment = {
      id: this.newId(),
      repo: repo.fullName,
      issueNumber,
      body: seed.body,
      user,
      createdAt,
      updatedAt: createdAt,
      reactions: []
    }
    this.comments.set(comment.id, comment)
    return comment
  }

  commentsOf(fullName: string, issueNumber: number): GiteaComment[] {
    const repo = this.repo(fullName)
    return [...this.comments.values()]
      .filter((c) => repo && c.repo === repo.fullName && c.issueNumber === issueNumber)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id)
  }

  /**
   * A direct collaborator with that access. GitHub's role names are taken too (maintain is write
   * and triage is read on Gitea), so a world's writers read the same on both stand-ins.
   */
  setPermission(fullName: string, login: string, access: string): void {
    const repo = this.requireRepo(fullName)
    this.addUser(login)
    const mode = ({ maintain: 'write', triage: 'read' } as Record<string, string>)[access] ?? access
    if (mode !== 'read' && mode !== 'write' && mode !== 'admin') {
      throw new Error(`unknown access ${access}`)
    }
    repo.collaborators.set(login.toLowerCase(), mode)
  }

  /** A member of an organization's team with that access to the repository (not a collaborator). */
  addTeamMember(
    fullName: string,
    team: string,
    login: string,
    access: 'read' | 'write' | 'admin'
  ): void {
    const repo = this.requireRepo(fullName)
    this.addUser(login)
    const entry = repo.teams.get(team) ?? { access, members: new Set<string>() }
    entry.access = access
    entry.members.add(login.toLowerCase())
    repo.teams.set(team, entry)
  }

  /**
   * A user's access to a repository (Gitea's GetUserRepoPermission): site admins admin, the owner
   * owner, the Actions user write (its own repository), else the best of direct collaboration
   * and teams, and read on a public repository.
   */
  accessOf(repo: GiteaRepo, login: string, asSiteAdmin = true): AccessMode {
    const key = login.toLowerCase()
    const user = this.user(login)
    if (!user) return 'none'
    if (key === repo.owner.toLowerCase()) return 'owner'
    if (user.isAdmin && asSiteAdmin) return 'admin'
    if (key === this.actionsUser.login) return 'write'
    let best: AccessMode = repo.private ? 'none' : 'read'
    const granted = [
      repo.collaborators.get(key),
      ...[...repo.teams.values()].filter((t) => t.members.has(key)).map((t) => t.access)
    ]
    for (const mode of granted) if (mode && RANK[mode] > RANK[best]) best = mode
    return best
  }

  /**
   * Users granted write access or more (Gitea's GetRepoAssignees): the owner, collaborators and
   * team members; a site admin only as one of those, the Actions user never.
   */
  assignees(repo: GiteaRepo): GiteaUser[] {
    return [...this.users.values()].filter(
      (user) =>
        !user.isOrg && user.id > 0 && RANK[this.accessOf(repo, user.login, false)] >= RANK.write
    )
  }
}

/** `path` is `/api/v1/...` for the API. */
export interface GiteaRequest extends HttpRequestRecord {
  git?: GitRequestRecord
}

/** A method and path under `/api/v1` (`'POST /repos/o/r/issues/1/comments'`), or a predicate. */
export type GiteaRouteMatch = string | ((method: string, path: string) => boolean)

export interface GiteaApiOptions {
  forge?: GiteaForge
  /** The instance's address as pages and payloads show it (GITHUB_SERVER_URL). */
  serverUrl?: string
  repos?: string[]
}

export interface GiteaApi {
  forge: GiteaForge
  /** The stand-in's root: git at `<url>/<owner>/<repo>.git`. */
  url: string
  /** `<url>/api/v1` (use as GITHUB_API_URL). */
  apiUrl: string
  /** The job token (acts as the Actions user). */
  token: string
  state: GiteaState
  requests: RequestLog<GiteaRequest>
  git: GitContent
  /** A personal access token acting as `login`. */
  addToken(login: string): string
  failNext(route: GiteaRouteMatch, fault?: Fault): void
  /** Webhook payloads as Gitea's Actions build them, from the current state. */
  events: GiteaEvents
  /**
   * What the runner gives every step on this forge, beside the usual GITHUB_* variables: the
   * forge switches, the API URL, no GraphQL URL, the job token.
   */
  runnerEnv(): Record<string, string>
  /** Closes an issue as `by` would (state only; build the event with events.issueClosed). */
  closeIssue(repo: string, number: number, by: string): void
  /** A person's pull request from a branch of the repository itself. */
  openPullRequest(repo: string, seed: GiteaPullSeed): Promise<GiteaPull>
  /** A pull request from a fork: its commit exists here only as `refs/pull/<n>/head`. */
  openForkPullRequest(repo: string, seed: GiteaForkPullSeed): Promise<GiteaPull>
  /** Merges (a merge commit on the base branch) as `by`, and closes. */
  mergePullRequest(repo: string, number: number, by?: string): Promise<void>
  pullRequests(repo: string): GiteaPull[]
  close(): Promise<void>
}

export interface GiteaPullSeed {
  headBranch: string
  baseBranch?: string
  title?: string
  body?: string
  /** Login of the person opening it (default: the repository's owner). */
  author?: string
}

export interface GiteaForkPullSeed extends GiteaPullSeed {
  /** The fork's `owner/name`. */
  headRepo: string
  /** The fork's changes, committed on top of the base branch (`null` deletes a file). */
  files: Record<string, string | null>
}

export interface GiteaEvents {
  issueComment(repo: string, commentId: number): ActionEvent
  issueClosed(repo: string, number: number, closer: string): ActionEvent
  dispatch(repo: string, sender: string, inputs?: Record<string, string>): ActionEvent
}

interface Ctx {
  res: ServerResponse
  url: URL
  params: string[]
  json: unknown
  /** The caller: a user, or undefined for an anonymous request. */
  doer?: GiteaUser
}

type Handler = (ctx: Ctx) => void | Promise<void>

export async function startGiteaApi(options: GiteaApiOptions = {}): Promise<GiteaApi> {
  const forge = options.forge ?? 'gitea'
  const state = new GiteaState(forge)
  const serverUrl = (options.serverUrl ?? 'https://gitea.example.test').replace(/\/+$/, '')
  for (const repo of options.repos ?? []) state.addRepo(repo)
  const requests = new RequestLog<GiteaRequest>()
  const token = randomBytes(20).toString('hex')
  const tokens = new Map<string, string>([[token, state.actionsUser.login]])
  const faults = new FaultQueue<GiteaRouteMatch>((match, req) =>
    routeMatches(
      match,
      req.method ?? 'GET',
      (req.url ?? '/').split('?')[0].replace(/^\/api\/v1/, '')
    )
  )
  let root = ''
  const api = () => `${root}/api/v1`
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

  // ---- JSON shapes (modules/structs) -----------------------------------------------------------

  const time = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : null)

  const userJson = (login: string, doer?: GiteaUser): Record<string, unknown> => {
    const user = state.user(login) ?? state.addUser(login)
    const own = doer !== undefined && doer.login === user.login && user.email
    return {
      id: user.id,
      login: user.login,
      login_name: '',
      source_id: 0,
      full_name: '',
      email: own || `${user.login.toLowerCase()}@noreply.${new URL(serverUrl).hostname}`,
      avatar_url: `${serverUrl}/avatars/${user.id}`,
      html_url: `${serverUrl}/${user.login}`,
      language: '',
      is_admin: user.isAdmin,
      last_login: '0001-01-01T00:00:00Z',
      created: '2024-01-01T00:00:00Z',
      restricted: false,
      active: true,
      prohibit_login: false,
      location: '',
      website: '',
      description: '',
      visibility: 'public',
      followers_count: 0,
      following_count: 0,
      starred_repos_count: 0,
      username: user.login
    }
  }

  const repoJson = (repo: GiteaRepo, mode: AccessMode): Record<string, unknown> => ({
    id: repo.id,
    owner: userJson(repo.owner),
    name: repo.name,
    full_name: repo.fullName,
    description: '',
    empty: false,
    private: repo.private,
    fork: false,
    template: false,
    parent: null,
    mirror: false,
    size: 0,
    html_url: `${serverUrl}/${repo.fullName}`,
    url: `${api()}/repos/${repo.fullName}`,
    clone_url: `${serverUrl}/${repo.fullName}.git`,
    default_branch: repo.defaultBranch,
    archived: false,
    internal: false,
    has_issues: true,
    has_pull_requests: true,
    has_actions: true,
    permissions: {
      admin: RANK[mode] >= RANK.admin,
      push: RANK[mode] >= RANK.write,
      pull: RANK[mode] >= RANK.read
    }
  })

  const issueJson = (repo: GiteaRepo, issue: GiteaIssue): Record<string, unknown> => {
    const html = `${serverUrl}/${repo.fullName}/${issue.isPull ? 'pulls' : 'issues'}/${issue.number}`
    return {
      id: issue.id,
      url: `${api()}/repos/${repo.fullName}/issues/${issue.number}`,
      html_url: html,
      number: issue.number,
      user: userJson(issue.user),
      original_author: '',
      original_author_id: 0,
      title: issue.title,
      body: issue.body,
      ref: '',
      assets: [],
      labels: [],
      milestone: null,
      assignee: null,
      assignees: null,
      state: issue.state,
      is_locked: false,
      comments: state.commentsOf(repo.fullName, issue.number).length,
      created_at: time(issue.createdAt),
      updated_at: time(issue.updatedAt),
      closed_at: time(issue.closedAt),
      due_date: null,
      pull_request: issue.isPull
        ? {
            merged: repo.pulls.get(issue.number)?.merged ?? false,
            merged_at: time(repo.pulls.get(issue.number)?.mergedAt ?? null),
            draft: /^\s*(wip:|\[wip\])/i.test(issue.title),
            html_url: html
          }
        : null,
      repository: { id: repo.id, name: repo.name, owner: repo.owner, full_name: repo.fullName },
      pin_order: 0
    }
  }

  const commentJson = (repo: GiteaRepo, comment: GiteaComment): Record<string, unknown> => {
    const issue = repo.issues.get(comment.issueNumber)
    const kind = issue?.isPull ? 'pulls' : 'issues'
    return {
      id: comment.id,
      html_url: `${serverUrl}/${repo.fullName}/${kind}/${comment.issueNumber}#issuecomment-${comment.id}`,
      pull_request_url: issue?.isPull
        ? `${serverUrl}/${repo.fullName}/pulls/${comment.issueNumber}`
        : '',
      issue_url: issue?.isPull ? '' : `${serverUrl}/${repo.fullName}/issues/${comment.issueNumber}`,
      user: userJson(comment.user),
      original_author: '',
      original_author_id: 0,
      body: comment.body,
      assets: [],
      created_at: time(comment.createdAt),
      updated_at: time(comment.updatedAt)
    }
  }

  const reactionJson = (reaction: GiteaReaction): Record<string, unknown> => ({
    user: userJson(reaction.user),
    content: reaction.content,
    created_at: time(reaction.createdAt)
  })

  /** A fork as a pull request's head shows it (forks are not repositories of the stand-in). */
  const forkJson = (fullName: string, id: number): Record<string, unknown> => {
    const [owner, name] = fullName.split('/')
    return {
      id,
      owner: userJson(owner),
      name,
      full_name: fullName,
      private: false,
      fork: true,
      html_url: `${serverUrl}/${fullName}`,
      clone_url: `${serverUrl}/${fullName}.git`,
      default_branch: 'main',
      permissions: { admin: false, push: false, pull: true }
    }
  }

  /**
   * Gitea keeps `refs/pull/<n>/head` at the head branch while the pull request is open (its push
   * hook moves it) and leaves it where it was once the pull request is closed or merged.
   */
  const syncPullRef = async (repo: GiteaRepo, pr: GiteaPull): Promise<string | undefined> => {
    const ref = `refs/pull/${pr.number}/head`
    const issue = repo.issues.get(pr.number)
    if (pr.headRepo === repo.fullName && issue?.state === 'open') {
      const branch = await gitStore.head(repo.fullName, pr.headBranch)
      if (branch) await gitStore.setRef(repo.fullName, ref, branch)
    }
    return gitStore.resolve(repo.fullName, ref)
  }

  /**
   * services/convert/pull.go: the list (ToAPIPullRequests) gives `refs/pull/<n>/head`'s commit
   * as head.sha, and the branch as head.ref while it exists in the head repository (else the pull
   * ref's name), with no filter by head (a fork's `kugetsu/issue-2` lists like ours); the
   * single pull request (ToAPIPullRequest) gives the head branch's current commit when it exists.
   * No draft flag of its own: `draft` is a WIP title.
   */
  const pullJson = async (
    repo: GiteaRepo,
    pr: GiteaPull,
    single: boolean
  ): Promise<Record<string, unknown>> => {
    const issue = repo.issues.get(pr.number) as GiteaIssue
    const pullSha = await syncPullRef(repo, pr)
    const own = pr.headRepo === repo.fullName
    const branchSha = own ? await gitStore.head(repo.fullName, pr.headBranch) : undefined
    const headSha = single ? (branchSha ?? pullSha) : pullSha
    // A fork's branch is taken to still exist in the fork (forks are not kept here).
    const headRef = !own || branchSha ? pr.headBranch : `refs/pull/${pr.number}/head`
    const html = `${serverUrl}/${repo.fullName}/pulls/${pr.number}`
    const base = repoJson(repo, 'write')
    return {
      id: pr.id,
      url: html,
      number: pr.number,
      user: userJson(issue.user),
      title: issue.title,
      body: issue.body,
      labels: [],
      milestone: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_reviewers_teams: [],
      state: issue.state,
      draft: /^\s*(wip:|\[wip\])/i.test(issue.title),
      is_locked: false,
      comments: state.commentsOf(repo.fullName, pr.number).length,
      review_comments: 0,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      mergeable: !pr.merged,
      merged: pr.merged,
      merged_at: time(pr.mergedAt),
      merge_commit_sha: pr.mergeCommitSha,
      merged_by: pr.mergedBy ? userJson(pr.mergedBy) : null,
      allow_maintainer_edit: false,
      base: {
        label: pr.baseBranch,
        ref: pr.baseBranch,
        sha: (await gitStore.head(repo.fullName, pr.baseBranch)) ?? '',
        repo_id: repo.id,
        repo: base
      },
      head: {
        label: pr.headBranch,
        ref: headRef,
        sha: headSha ?? '',
        repo_id: pr.headRepoId,
        repo: own ? base : forkJson(pr.headRepo, pr.headRepoId)
      },
      merge_base: '',
      due_date: null,
      created_at: time(issue.createdAt),
      updated_at: time(issue.updatedAt),
      closed_at: time(issue.closedAt),
      pin_order: 0
    }
  }

  const addPull = async (
    repo: GiteaRepo,
    seed: GiteaPullSeed & { headRepo?: string; headSha: string; user: string }
  ): Promise<GiteaPull> => {
    const issue = state.addIssue(repo.fullName, {
      title: seed.title ?? seed.headBranch,
      body: seed.body ?? '',
      user: seed.user,
      pull: true
    })
    const headRepo = seed.headRepo ?? repo.fullName
    const pr: GiteaPull = {
      number: issue.number,
      id: state.newId(),
      headBranch: seed.headBranch,
      headRepo,
      headRepoId: headRepo === repo.fullName ? repo.id : state.newId(),
      baseBranch: seed.baseBranch ?? repo.defaultBranch,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null
    }
    repo.pulls.set(pr.number, pr)
    await gitStore.setRef(repo.fullName, `refs/pull/${pr.number}/head`, seed.headSha)
    return pr
  }

  // ---- responses -------------------------------------------------------------------------------

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {}
  ): void =>
    sendJson(res, status, body, {
      ...(body === undefined ? {} : { 'content-type': 'application/json;charset=utf-8' }),
      'x-gitea-version': '1.24.0',
      ...headers
    })
  // Gitea's APIError body: the message and a link to the API's description.
  const error = (res: ServerResponse, status: number, message: string): void =>
    send(res, status, { message, url: `${root}/api/swagger` })
  const notFound = (res: ServerResponse): void =>
    send(res, 404, {
      errors: [],
      message: 'The target couldn\u2019t be found.',
      url: `${root}/api/swagger`
    })

  // ---- routes (routers/api/v1/api.go) ----------------------------------------------------------

  const router = createRouter<Handler>()
  const route = router.route

  /** The repository, if the caller may see it (a private one is 404 to others, like Gitea). */
  const withRepo = (ctx: Ctx): GiteaRepo | undefined => {
    const repo = state.repo(
      `${decodeURIComponent(ctx.params[0])}/${decodeURIComponent(ctx.params[1])}`
    )
    if (!repo || (repo.private && (!ctx.doer || state.accessOf(repo, ctx.doer.login) === 'none'))) {
      notFound(ctx.res)
      return undefined
    }
    return repo
  }
  const accessOfDoer = (ctx: Ctx, repo: GiteaRepo): AccessMode =>
    ctx.doer ? state.accessOf(repo, ctx.doer.login) : 'none'
  /** Writes need a signed-in caller (401) who may write issues (403). */
  const mayWrite = (ctx: Ctx, repo: GiteaRepo, needed: AccessMode = 'read'): boolean => {
    if (!ctx.doer) {
      error(ctx.res, 401, 'token is required')
      return false
    }
    if (RANK[accessOfDoer(ctx, repo)] < RANK[needed]) {
      error(ctx.res, 403, 'user should have specific permission or be a site admin')
      return false
    }
    return true
  }
  const withIssue = (ctx: Ctx, repo: GiteaRepo): GiteaIssue | undefined => {
    const issue = repo.issues.get(Number(ctx.params[2]))
    if (!issue) notFound(ctx.res)
    return issue
  }
  const withComment = (ctx: Ctx, repo: GiteaRepo): GiteaComment | undefined => {
    const comment = state.comments.get(Number(ctx.params[2]))
    if (!comment || comment.repo !== repo.fullName) {
      notFound(ctx.res)
      return undefined
    }
    return comment
  }
  const bodyOf = (ctx: Ctx): string | undefined => {
    const body = (ctx.json as { body?: unknown } | undefined)?.body
    if (typeof body !== 'string' || body === '') {
      send(ctx.res, 422, { message: '[Body]: Required', url: `${root}/api/swagger` })
      return undefined
    }
    return body
  }
  const react = (ctx: Ctx, reactions: GiteaReaction[]): void => {
    const content = (ctx.json as { content?: unknown } | undefined)?.content
    if (typeof content !== 'string' || !REACTIONS.includes(content)) {
      error(ctx.res, 403, `'${String(content)}' is not an allowed reaction`)
      return
    }
    const login = (ctx.doer as GiteaUser).login
    const existing = reactions.find((r) => r.content === content && r.user === login)
    if (existing) return send(ctx.res, 200, reactionJson(existing))
    const reaction: GiteaReaction = {
      id: state.newId(),
      content: content as GiteaReactionContent,
      user: login,
      createdAt: new Date()
    }
    reactions.push(reaction)
    send(ctx.res, 201, reactionJson(reaction))
  }

  route('GET', '/version', (ctx) =>
    send(ctx.res, 200, { version: forge === 'forgejo' ? '11.0.0+gitea-1.22.0' : '1.24.0' })
  )

  route('GET', '/user', (ctx) => {
    if (!ctx.doer) return error(ctx.res, 401, 'token is required')
    send(ctx.res, 200, userJson(ctx.doer.login, ctx.doer))
  })

  route('GET', '/repos/{owner}/{repo}', (ctx) => {
    const repo = withRepo(ctx)
    if (repo) send(ctx.res, 200, repoJson(repo, accessOfDoer(ctx, repo)))
  })

  route('GET', '/repos/{owner}/{repo}/issues/{index}', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo)
    if (repo && issue) send(ctx.res, 200, issueJson(repo, issue))
  })

  route('GET', '/repos/{owner}/{repo}/issues/{index}/comments', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo)
    if (!repo || !issue) return
    const comments = state.commentsOf(repo.fullName, issue.number)
    send(
      ctx.res,
      200,
      comments.map((c) => commentJson(repo, c)),
      { 'x-total-count': String(comments.length) }
    )
  })

  route('POST', '/repos/{owner}/{repo}/issues/{index}/comments', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo)
    if (!repo || !issue || !mayWrite(ctx, repo)) return
    const body = bodyOf(ctx)
    if (body === undefined) return
    const comment = state.addComment(repo.fullName, issue.number, {
      body,
      user: (ctx.doer as GiteaUser).login
    })
    send(ctx.res, 201, commentJson(repo, comment))
  })

  route('GET', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo)
    if (repo && comment) send(ctx.res, 200, commentJson(repo, comment))
  })

  route('PATCH', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo)
    if (!repo || !comment || !mayWrite(ctx, repo)) return
    const doer = ctx.doer as GiteaUser
    // Only the poster, or someone who may write the repository's issues, edits a comment.
    if (doer.login !== comment.user && RANK[accessOfDoer(ctx, repo)] < RANK.write) {
      return error(ctx.res, 403, 'user should have permission to edit comment')
    }
    const body = bodyOf(ctx)
    if (body === undefined) return
    comment.body = body
    comment.updatedAt = new Date()
    send(ctx.res, 200, commentJson(repo, comment))
  })

  route('DELETE', '/repos/{owner}/{repo}/issues/comments/{id}', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo)
    if (!repo || !comment || !mayWrite(ctx, repo, 'write')) return
    state.comments.delete(comment.id)
    send(ctx.res, 204)
  })

  route('GET', '/repos/{owner}/{repo}/issues/comments/{id}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo)
    if (repo && comment) send(ctx.res, 200, comment.reactions.map(reactionJson))
  })

  route('POST', '/repos/{owner}/{repo}/issues/comments/{id}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const comment = repo && withComment(ctx, repo)
    if (repo && comment && mayWrite(ctx, repo)) react(ctx, comment.reactions)
  })

  route('POST', '/repos/{owner}/{repo}/issues/{index}/reactions', (ctx) => {
    const repo = withRepo(ctx)
    const issue = repo && withIssue(ctx, repo)
    if (repo && issue && mayWrite(ctx, repo)) react(ctx, issue.reactions)
  })

  route('GET', '/repos/{owner}/{repo}/collaborators', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const logins = [...repo.collaborators.keys()]
    send(
      ctx.res,
      200,
      logins.map((login) => userJson(login)),
      { 'x-total-count': String(logins.length) }
    )
  })

  route('GET', '/repos/{owner}/{repo}/collaborators/{user}', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const user = state.user(decodeURIComponent(ctx.params[2]))
    if (!user) return error(ctx.res, 422, `user does not exist [name: ${ctx.params[2]}]`)
    if (repo.collaborators.has(user.login.toLowerCase())) return send(ctx.res, 204)
    notFound(ctx.res)
  })

  route('GET', '/repos/{owner}/{repo}/collaborators/{user}/permission', (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const asked = decodeURIComponent(ctx.params[2])
    const doer = ctx.doer
    const allowed =
      doer &&
      (doer.isAdmin ||
        doer.login.toLowerCase() === asked.toLowerCase() ||
        RANK[state.accessOf(repo, doer.login)] >= RANK.admin)
    if (!allowed) {
      return error(
        ctx.res,
        403,
        'Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own'
      )
    }
    const user = state.user(asked)
    if (!user) return error(ctx.res, 404, `user does not exist [name: ${asked}]`)
    const mode = state.accessOf(repo, user.login)
    send(ctx.res, 200, { permission: mode, role_name: mode, user: userJson(user.login) })
  })

  route('GET', '/repos/{owner}/{repo}/assignees', (ctx) => {
    const repo = withRepo(ctx)
    if (repo)
      send(
        ctx.res,
        200,
        state.assignees(repo).map((user) => userJson(user.login))
      )
  })

  // routers/api/v1/repo/pull.go: no `head=` filter; `state`, `sort` (newest first by default),
  // `page` and `limit` (at most 50), with Link and X-Total-Count headers.
  route('GET', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const wanted = ctx.url.searchParams.get('state') || 'open'
    const pulls = [...repo.pulls.values()]
      .filter((pr) => wanted === 'all' || repo.issues.get(pr.number)?.state === wanted)
      .sort((a, b) => b.number - a.number)
    const limit = Math.min(Math.max(Number(ctx.url.searchParams.get('limit')) || 30, 1), 50)
    const page = Math.max(Number(ctx.url.searchParams.get('page')) || 1, 1)
    const slice = pulls.slice((page - 1) * limit, page * limit)
    const headers: Record<string, string> = { 'x-total-count': String(pulls.length) }
    if (page * limit < pulls.length) {
      const next = new URL(ctx.url.toString())
      next.searchParams.set('page', String(page + 1))
      next.searchParams.set('limit', String(limit))
      headers.link = `<${root}${next.pathname}${next.search}>; rel="next"`
    }
    const json = []
    for (const pr of slice) json.push(await pullJson(repo, pr, false))
    send(ctx.res, 200, json, headers)
  })

  route('GET', '/repos/{owner}/{repo}/pulls/{index}', async (ctx) => {
    const repo = withRepo(ctx)
    const pr = repo?.pulls.get(Number(ctx.params[2]))
    if (!repo) return
    if (!pr) return notFound(ctx.res)
    send(ctx.res, 200, await pullJson(repo, pr, true))
  })

  // CreatePullRequestOption: head, base, title required; no draft (a WIP title is one). `head`
  // is a branch of this repository or `owner:branch`.
  route('POST', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const repo = withRepo(ctx)
    if (!repo || !mayWrite(ctx, repo)) return
    const body = (ctx.json ?? {}) as Record<string, unknown>
    for (const field of ['Head', 'Base', 'Title']) {
      const value = body[field.toLowerCase()]
      if (typeof value !== 'string' || value === '') {
        return send(ctx.res, 422, { message: `[${field}]: Required`, url: `${root}/api/swagger` })
      }
    }
    let head = body.head as string
    const colon = head.indexOf(':')
    if (colon >= 0) {
      if (head.slice(0, colon).toLowerCase() !== repo.owner.toLowerCase()) {
        return notFound(ctx.res)
      }
      head = head.slice(colon + 1)
    }
    const base = body.base as string
    const headSha = await gitStore.head(repo.fullName, head)
    if (!headSha || !(await gitStore.head(repo.fullName, base))) return notFound(ctx.res)
    const existing = [...repo.pulls.values()].find(
      (pr) =>
        pr.headRepo === repo.fullName &&
        pr.headBranch === head &&
        pr.baseBranch === base &&
        repo.issues.get(pr.number)?.state === 'open'
    )
    if (existing) {
      return error(
        ctx.res,
        409,
        `pull request already exists for these targets [id: ${existing.id}, issue_id: ${existing.number}, head_repo_id: ${repo.id}, base_repo_id: ${repo.id}, head_branch: ${head}, base_branch: ${base}]`
      )
    }
    const pr = await addPull(repo, {
      headBranch: head,
      baseBranch: base,
      title: body.title as string,
      body: typeof body.body === 'string' ? body.body : '',
      headSha,
      user: (ctx.doer as GiteaUser).login
    })
    send(ctx.res, 201, await pullJson(repo, pr, true))
  })

  // routers/api/v1/repo/branch.go: `/branches/*`, the name with its slashes.
  const branchRoute = (method: string, handler: (ctx: Ctx, branch: string) => unknown) =>
    route(method, '/repos/{owner}/{repo}/branches/{name+}', async (ctx) => {
      await handler(ctx, ctx.params[2].split('/').map(decodeURIComponent).join('/'))
    })

  branchRoute('GET', async (ctx, branch) => {
    const repo = withRepo(ctx)
    if (!repo) return
    const sha = await gitStore.head(repo.fullName, branch)
    if (!sha) return error(ctx.res, 404, `branch does not exist [name: ${branch}]`)
    send(ctx.res, 200, {
      name: branch,
      commit: { id: sha, url: `${serverUrl}/${repo.fullName}/commit/${sha}` },
      protected: false,
      user_can_push: RANK[accessOfDoer(ctx, repo)] >= RANK.write,
      user_can_merge: RANK[accessOfDoer(ctx, repo)] >= RANK.write
    })
  })

  branchRoute('DELETE', async (ctx, branch) => {
    const repo = withRepo(ctx)
    if (!repo || !mayWrite(ctx, repo, 'write')) return
    if (branch === repo.defaultBranch) {
      return error(ctx.res, 403, 'can not delete default branch')
    }
    if (!(await gitStore.head(repo.fullName, branch))) {
      return error(ctx.res, 404, `branch does not exist [name: ${branch}]`)
    }
    await gitStore.deleteRef(repo.fullName, `refs/heads/${branch}`)
    send(ctx.res, 204)
  })

  // ---- dispatch --------------------------------------------------------------------------------

  const authenticate = (header: string | undefined): GiteaUser | undefined | 'bad' => {
    if (!header) return undefined
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header)
    const login = match && tokens.get(match[1])
    if (!login) return 'bad'
    return state.user(login)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', root)
    const method = req.method ?? 'GET'
    const record: GiteaRequest = requestRecord(req, res, url)
    if (isGitPath(url.pathname)) {
      return void gitStore.serve(
        req,
        res,
        url,
        (candidate) => {
          const login = tokens.get(candidate)
          const user = login ? state.user(login) : undefined
          const repo = state.repo(
            url.pathname
              .split('/')
              .slice(1, 3)
              .join('/')
              .replace(/\.git$/, '')
          )
          if (!user || !repo) return undefined
          const mode = state.accessOf(repo, user.login)
          return { login: user.login, contents: RANK[mode] >= RANK.write ? 'write' : 'read' }
        },
        (git) => {
          record.git = git
          requests.record(record)
        }
      )
    }
    const taken = await takeRequest(req, res, record, {
      requests,
      faults,
      badJson: (answer) => error(answer, 400, 'invalid JSON body'),
      faultBody: {
        contentType: 'application/json;charset=utf-8',
        body: JSON.stringify({ message: 'Internal Server Error', url: `${root}/api/swagger` })
      }
    })
    if (!taken) return
    const { json } = taken
    // No GraphQL, no caches REST API, nothing but /api/v1: 404.
    if (!url.pathname.startsWith('/api/v1/')) return notFound(res)
    const doer = authenticate(req.headers.authorization)
    if (doer === 'bad') return error(res, 401, 'user does not exist')
    const path = url.pathname.slice('/api/v1'.length)
    const found = router.find(method, path)
    if (!found) return notFound(res)
    await found.handler({ res, url, params: found.params, json, doer })
  }

  const loopback = await listenLoopback((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, `stand-in error: ${String(e)}`)
      else res.destroy()
    })
  })
  root = loopback.url

  // ---- events (services/actions/notifier.go, workflow.go) --------------------------------------

  const requireRepo = (name: string): GiteaRepo => {
    const repo = state.repo(name)
    if (!repo) throw new Error(`unknown repository ${name}`)
    return repo
  }
  const events: GiteaEvents = {
    issueComment(name, commentId) {
      const repo = requireRepo(name)
      const comment = state.comments.get(commentId)
      const issue = comment && repo.issues.get(comment.issueNumber)
      if (!comment || !issue) throw new Error(`unknown comment ${commentId}`)
      return {
        name: 'issue_comment',
        payload: {
          action: 'created',
          issue: issueJson(repo, issue),
          comment: commentJson(repo, comment),
          // The commenter's permissions.
          repository: repoJson(repo, state.accessOf(repo, comment.user)),
          sender: userJson(comment.user),
          is_pull: issue.isPull
        }
      }
    },
    issueClosed(name, number, closer) {
      const repo = requireRepo(name)
      const issue = repo.issues.get(number)
      if (!issue) throw new Error(`unknown issue ${name}#${number}`)
      return {
        name: 'issues',
        payload: {
          action: 'closed',
          number,
          issue: issueJson(repo, issue),
          // The issue author's permissions, not the closer's.
          repository: repoJson(repo, state.accessOf(repo, issue.user)),
          sender: userJson(closer),
          commit_id: ''
        }
      }
    },
    dispatch(name, sender, inputs = {}) {
      const repo = requireRepo(name)
      return {
        name: 'workflow_dispatch',
        payload: {
          workflow: '.gitea/workflows/kugetsu.yml',
          ref: `refs/heads/${repo.defaultBranch}`,
          inputs,
          // Built without anyone's access: all false.
          repository: repoJson(repo, 'none'),
          sender: userJson(sender)
        }
      }
    }
  }

  return {
    forge,
    url: root,
    apiUrl: api(),
    token,
    state,
    requests,
    git: gitStore,
    addToken(login) {
      state.addUser(login)
      const value = randomBytes(20).toString('hex')
      tokens.set(value, login)
      return value
    },
    failNext: (match, fault) => void faults.add(match, fault),
    events,
    runnerEnv: () => ({
      GITEA_ACTIONS: 'true',
      ...(forge === 'forgejo' ? { FORGEJO_ACTIONS: 'true', FORGEJO_TOKEN: token } : {}),
      GITHUB_API_URL: api(),
      GITHUB_GRAPHQL_URL: '',
      GITHUB_TOKEN: token
    }),
    closeIssue(name, number, by) {
      const issue = requireRepo(name).issues.get(number)
      if (!issue) throw new Error(`unknown issue ${name}#${number}`)
      state.addUser(by)
      issue.state = 'closed'
      issue.closedAt = issue.updatedAt = new Date()
    },
    async openPullRequest(name, seed) {
      const repo = requireRepo(name)
      const headSha = await gitStore.head(repo.fullName, seed.headBranch)
      if (!headSha) throw new Error(`${repo.fullName} has no branch ${seed.headBranch}`)
      return addPull(repo, { ...seed, headSha, user: seed.author ?? repo.owner })
    },
    async openForkPullRequest(name, seed) {
      const repo = requireRepo(name)
      const user = seed.author ?? seed.headRepo.split('/')[0]
      const parent = await gitStore.head(repo.fullName, seed.baseBranch ?? repo.defaultBranch)
      if (!parent) throw new Error(`${repo.fullName} has no base branch; seed it first`)
      const headSha = await gitStore.commitObject(repo.fullName, parent, seed.files, {
        author: { name: user, email: `${user}@noreply.${new URL(serverUrl).hostname}` },
        message: seed.title ?? 'Changes from a fork'
      })
      return addPull(repo, { ...seed, headSha, user })
    },
    async mergePullRequest(name, number, by) {
      const repo = requireRepo(name)
      const pr = repo.pulls.get(number)
      const issue = repo.issues.get(number)
      if (!pr || !issue || issue.state !== 'open') throw new Error(`#${number} is not open`)
      const head = (await syncPullRef(repo, pr)) as string
      const base = (await gitStore.head(repo.fullName, pr.baseBranch)) as string
      const tree = await gitStore.mergeTree(repo.fullName, base, head)
      if (!tree) throw new Error(`#${number} conflicts`)
      const merger = by ?? repo.owner
      const sha = (
        await gitStore.git(
          repo.fullName,
          ['commit-tree', tree, '-p', base, '-p', head, '-m', `Merge pull request #${number}`],
          {
            env: {
              GIT_AUTHOR_NAME: merger,
              GIT_AUTHOR_EMAIL: `${merger}@noreply.example.test`,
              GIT_COMMITTER_NAME: merger,
              GIT_COMMITTER_EMAIL: `${merger}@noreply.example.test`
            }
          }
        )
      ).trim()
      await gitStore.setRef(repo.fullName, `refs/heads/${pr.baseBranch}`, sha)
      pr.merged = true
      pr.mergedAt = new Date()
      pr.mergedBy = merger
      pr.mergeCommitSha = sha
      issue.state = 'closed'
      issue.closedAt = issue.updatedAt = pr.mergedAt
    },
    pullRequests: (name) => [...requireRepo(name).pulls.values()],
    close: async () => {
      await loopback.close()
      gitStore.close()
    }
  }
}
