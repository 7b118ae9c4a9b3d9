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
import { FaultQueue, listenLoopback, readBody, RequestLog, type Fault } from './cache-server.js'
import { GitStore, isGitPath, type GitContent, type GitRequestRecord } from './git-remote.js'

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

export interface GiteaRepo {
  id: number
  owner: string
  name: string
  fullName: string
  private: boolean
  defaultBranch: string
  issues: Map<number, GiteaIssue>
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

export interface GiteaRequest {
  method: string
  /** Path without the query string (`/api/v1/...` for the API). */
  path: string
  query: Record<string, string>
  url: string
  headers: IncomingMessage['headers']
  authorization?: string
  json?: unknown
  status?: number
  fault?: boolean
  git?: GitRequestRecord
  at: Date
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
  close(): Promise<void>
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
  const faults = new FaultQueue<GiteaRouteMatch>((match, req) => {
    const method = req.method ?? 'GET'
    const path = (req.url ?? '/').split('?')[0].replace(/^\/api\/v1/, '')
    if (typeof match === 'function') return match(method, path)
    const space = match.indexOf(' ')
    return space > 0
      ? match.slice(0, space).toUpperCase() === method && match.slice(space + 1) === path
      : match === path
  })
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
        ? { merged: false, merged_at: null, draft: false, html_url: html }
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

  // ---- responses -------------------------------------------------------------------------------

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {}
  ): void => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      ...(body === undefined ? {} : { 'content-type': 'application/json;charset=utf-8' }),
      'x-gitea-version': '1.24.0',
      ...headers,
      'content-length': String(Buffer.byteLength(text))
    })
    res.end(text)
  }
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

  const routes: { method: string; pattern: RegExp; handler: Handler }[] = []
  const route = (method: string, pattern: string, handler: Handler): void => {
    const source = pattern.replace(/\{[a-z_]+\}/g, '([^/]+)')
    routes.push({ method, pattern: new RegExp(`^${source}$`), handler })
  }

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
    const record: GiteaRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      url: req.url ?? '/',
      headers: req.headers,
      authorization: req.headers.authorization,
      at: new Date()
    }
    res.on('finish', () => (record.status = res.statusCode))
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
    const raw = await readBody(req)
    let json: unknown
    if (raw.length > 0) {
      try {
        json = JSON.parse(raw.toString('utf8'))
        record.json = json
      } catch {
        requests.record(record)
        return error(res, 400, 'invalid JSON body')
      }
    }
    const fault = faults.take(req)
    if (fault) record.fault = true
    requests.record(record)
    if (fault) {
      return faults.apply(fault, res, () => ({
        contentType: 'application/json;charset=utf-8',
        body: JSON.stringify({ message: 'Internal Server Error', url: `${root}/api/swagger` })
      }))
    }
    // No GraphQL, no caches REST API, nothing but /api/v1: 404.
    if (!url.pathname.startsWith('/api/v1/')) return notFound(res)
    const doer = authenticate(req.headers.authorization)
    if (doer === 'bad') return error(res, 401, 'user does not exist')
    const path = url.pathname.slice('/api/v1'.length)
    for (const r of routes) {
      if (r.method !== method) continue
      const match = r.pattern.exec(path)
      if (!match) continue
      return void (await r.handler({ res, url, params: match.slice(1), json, doer }))
    }
    notFound(res)
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
    close: async () => {
      await loopback.close()
      gitStore.close()
    }
  }
}
