/**
 * The git side of the GitHub stand-in: one bare repository per stand-in repository, served over
 * smart HTTP by `git http-backend` with GitHub's authentication rules, and a content API tests use
 * to make and read commits directly (as a person pushing would), without a clone.
 *
 * Every git command here runs with a private HOME and GIT_CONFIG_NOSYSTEM=1, so nothing depends on
 * the machine's git configuration.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ZERO_SHA = '0000000000000000000000000000000000000000'

export interface GitAuthor {
  name: string
  email: string
}

export interface GitCommitOptions {
  author?: GitAuthor
  message?: string
}

export interface GitSeedOptions extends GitCommitOptions {
  branch?: string
}

export interface GitLogEntry {
  sha: string
  parents: string[]
  authorName: string
  authorEmail: string
  committerName: string
  message: string
  /** Paths the commit changed against its first parent (all its paths for a root commit). */
  files: string[]
}

/** What tests call to read and write a stand-in repository's content. */
export interface GitContent {
  /** The initial commit of `branch` (default: the repository's default branch). */
  seed(repo: string, files: Record<string, string>, options?: GitSeedOptions): Promise<string>
  /**
   * A commit on `branch` as a person pushing it would make it (`null` deletes a file); a missing
   * branch starts from the default branch. Returns the new sha.
   */
  commit(
    repo: string,
    branch: string,
    files: Record<string, string | null>,
    options?: GitCommitOptions
  ): Promise<string>
  head(repo: string, branch: string): Promise<string | undefined>
  /** Commits reachable from `branch`, newest first. */
  log(repo: string, branch: string): Promise<GitLogEntry[]>
  show(repo: string, ref: string, path: string): Promise<string | undefined>
  branches(repo: string): Promise<string[]>
  /** Points any ref (e.g. `refs/pull/5/head`) at `sha`. */
  setRef(repo: string, ref: string, sha: string): Promise<void>
  /** The bare repository's directory (for `git -C` in tests). */
  dir(repo: string): string
}

/** What the stand-in tells the git store about one of its repositories. */
export interface GitRepoInfo {
  fullName: string
  owner: string
  defaultBranch: string
  private: boolean
}

export type GitAccess = 'none' | 'read' | 'write'

export interface GitCredential {
  login: string
  contents: GitAccess
}

export interface GitRequestRecord {
  repo: string
  /** `git-upload-pack` (fetch) or `git-receive-pack` (push); undefined for dumb requests. */
  service?: string
  push: boolean
  /** The token the request's Basic credentials carried, if any. */
  token?: string
  login?: string
}

const PRE_RECEIVE = `#!/bin/sh
# Refuses non-fast-forward updates and deletions of the branches listed in protected-branches,
# like a GitHub branch protection rule (GitHub itself allows force pushes by default).
zero=${ZERO_SHA}
status=0
while read -r old new ref; do
  branch=\${ref#refs/heads/}
  [ "$branch" = "$ref" ] && continue
  grep -qxF -e "$branch" protected-branches 2>/dev/null || continue
  if [ "$new" = "$zero" ]; then
    echo "error: GH006: Protected branch update failed for $ref. Cannot delete this branch." >&2
    status=1
  elif [ "$old" != "$zero" ] && ! git merge-base --is-ancestor "$old" "$new"; then
    echo "error: GH006: Protected branch update failed for $ref. Cannot force-push to this branch." >&2
    status=1
  fi
done
exit $status
`

export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stderr: string
  ) {
    super(message)
  }
}

/** Bare repositories under a temp dir (removed by `close`), created on first use. */
export class GitStore implements GitContent {
  readonly root = mkdtempSync(join(tmpdir(), 'kugetsu-git-remote-'))
  readonly projectRoot = join(this.root, 'repos')
  readonly home = join(this.root, 'home')
  private readonly ready = new Map<string, Promise<string>>()

  constructor(private readonly lookup: (repo: string) => GitRepoInfo | undefined) {}

  /** Environment of every git process the store starts. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: this.home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      ...extra
    }
  }

  info(repo: string): GitRepoInfo {
    const info = this.lookup(repo)
    if (!info) throw new Error(`unknown repository ${repo}; addRepo it first`)
    return info
  }

  dir(repo: string): string {
    return join(this.projectRoot, `${this.info(repo).fullName}.git`)
  }

  /** Creates the bare repository once; resolves with its directory. */
  ensure(repo: string): Promise<string> {
    const info = this.info(repo)
    let ready = this.ready.get(info.fullName)
    if (!ready) {
      ready = this.init(info)
      this.ready.set(info.fullName, ready)
    }
    return ready
  }

  private async init(info: GitRepoInfo): Promise<string> {
    const dir = join(this.projectRoot, `${info.fullName}.git`)
    await mkdir(this.home, { recursive: true })
    await mkdir(dir, { recursive: true })
    await run(['init', '--quiet', '--bare', dir], this.env())
    const config: [string, string][] = [
      ['http.receivepack', 'true'],
      ['uploadpack.allowFilter', 'true'],
      ['uploadpack.allowAnySHA1InWant', 'true'],
      ['receive.advertisePushOptions', 'false']
    ]
    for (const [key, value] of config) await run(['-C', dir, 'config', key, value], this.env())
    await run(['-C', dir, 'symbolic-ref', 'HEAD', `refs/heads/${info.defaultBranch}`], this.env())
    const hook = join(dir, 'hooks', 'pre-receive')
    await writeFile(hook, PRE_RECEIVE)
    await chmod(hook, 0o755)
    return dir
  }

  /** Runs git in the repository's bare directory. */
  async git(
    repo: string,
    args: string[],
    options: { input?: string | Buffer; env?: Record<string, string> } = {}
  ): Promise<string> {
    const dir = await this.ensure(repo)
    return run(['-C', dir, ...args], this.env(options.env), options.input)
  }

  /** Refuses non-fast-forward pushes and deletions of `branch` from now on. */
  async protectBranch(repo: string, branch: string): Promise<void> {
    await appendFile(join(await this.ensure(repo), 'protected-branches'), `${branch}\n`)
  }

  async isProtected(repo: string, branch: string): Promise<boolean> {
    const file = join(await this.ensure(repo), 'protected-branches')
    if (!existsSync(file)) return false
    return (await readFile(file, 'utf8')).split('\n').includes(branch)
  }

  // ---- content API ---------------------------------------------------------------------------

  async seed(
    repo: string,
    files: Record<string, string>,
    options: GitSeedOptions = {}
  ): Promise<string> {
    const branch = options.branch ?? this.info(repo).defaultBranch
    return this.write(repo, `refs/heads/${branch}`, undefined, ZERO_SHA, files, {
      message: 'Initial commit',
      ...options
    })
  }

  async commit(
    repo: string,
    branch: string,
    files: Record<string, string | null>,
    options: GitCommitOptions = {}
  ): Promise<string> {
    const current = await this.head(repo, branch)
    const parent = current ?? (await this.head(repo, this.info(repo).defaultBranch))
    return this.write(repo, `refs/heads/${branch}`, parent, current ?? ZERO_SHA, files, options)
  }

  /**
   * Writes a commit of `files` on top of `parent` into `ref` if the ref is still `old` (ZERO_SHA:
   * absent): a compare-and-swap, like a push that is not forced.
   */
  async write(
    repo: string,
    ref: string,
    parent: string | undefined,
    old: string,
    files: Record<string, string | null>,
    options: GitCommitOptions = {}
  ): Promise<string> {
    const info = this.info(repo)
    const author = options.author ?? {
      name: info.owner,
      email: `${info.owner}@users.noreply.github.com`
    }
    const sha = await this.commitObject(repo, parent, files, {
      author,
      message: options.message ?? 'Update files'
    })
    await this.git(repo, ['update-ref', ref, sha, old])
    return sha
  }

  /** Makes a commit object (no ref moves) with fast-import, returns its sha. */
  async commitObject(
    repo: string,
    parent: string | undefined,
    files: Record<string, string | null>,
    options: { author: GitAuthor; message: string; committer?: GitAuthor }
  ): Promise<string> {
    const scratch = `refs/kugetsu-stand-in/${randomBytes(8).toString('hex')}`
    const when = `${Math.floor(Date.now() / 1000)} +0000`
    const person = (p: GitAuthor): string => `${p.name} <${p.email}> ${when}`
    const chunks: Buffer[] = []
    const text = (s: string): void => void chunks.push(Buffer.from(s, 'utf8'))
    const data = (content: string): void => {
      const bytes = Buffer.from(content, 'utf8')
      text(`data ${bytes.length}\n`)
      chunks.push(bytes)
      text('\n')
    }
    text(`commit ${scratch}\n`)
    text(`author ${person(options.author)}\n`)
    text(`committer ${person(options.committer ?? options.author)}\n`)
    data(options.message)
    if (parent) text(`from ${parent}\n`)
    for (const [path, content] of Object.entries(files)) {
      if (content === null) {
        text(`D ${quotePath(path)}\n`)
      } else {
        text(`M 100644 inline ${quotePath(path)}\n`)
        data(content)
      }
    }
    text('\n')
    await this.git(repo, ['fast-import', '--quiet', '--done'], {
      input: Buffer.concat([...chunks, Buffer.from('done\n')])
    })
    const sha = (await this.git(repo, ['rev-parse', scratch])).trim()
    await this.git(repo, ['update-ref', '-d', scratch])
    return sha
  }

  /**
   * The sha a full ref name points at. show-ref takes names only, so `main~1` or `main:path` in
   * a branch name someone sent is no ref rather than a revision expression.
   */
  async resolve(repo: string, ref: string): Promise<string | undefined> {
    if (!ref.startsWith('refs/')) return undefined
    try {
      return (await this.git(repo, ['show-ref', '--verify', '--hash', ref])).trim()
    } catch {
      return undefined
    }
  }

  head(repo: string, branch: string): Promise<string | undefined> {
    return this.resolve(repo, `refs/heads/${branch}`)
  }

  async log(repo: string, branch: string): Promise<GitLogEntry[]> {
    const head = await this.head(repo, branch)
    if (!head) return []
    const out = await this.git(repo, [
      'log',
      '-z',
      '--format=%H%x01%P%x01%an%x01%ae%x01%cn%x01%B',
      head
    ])
    const entries: GitLogEntry[] = []
    for (const record of out.split('\0').filter(Boolean)) {
      const [sha, parents, authorName, authorEmail, committerName, message] = record.split('\x01')
      const from = parents ? parents.split(' ')[0] : undefined
      const diff = from
        ? await this.git(repo, ['diff-tree', '-r', '-z', '--name-only', from, sha])
        : await this.git(repo, ['ls-tree', '-r', '-z', '--name-only', sha])
      entries.push({
        sha,
        parents: parents ? parents.split(' ') : [],
        authorName,
        authorEmail,
        committerName,
        message: message.replace(/\n+$/, ''),
        files: diff.split('\0').filter(Boolean)
      })
    }
    return entries
  }

  async show(repo: string, ref: string, path: string): Promise<string | undefined> {
    try {
      return await this.git(repo, ['cat-file', 'blob', `${ref}:${path}`])
    } catch {
      return undefined
    }
  }

  async branches(repo: string): Promise<string[]> {
    const out = await this.git(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])
    return out
      .split('\n')
      .filter(Boolean)
      .map((ref) => ref.slice('refs/heads/'.length))
  }

  async setRef(repo: string, ref: string, sha: string): Promise<void> {
    await this.git(repo, ['update-ref', ref, sha])
  }

  async deleteRef(repo: string, ref: string): Promise<void> {
    await this.git(repo, ['update-ref', '-d', ref])
  }

  /** How many commits `head` has that `base` does not. */
  async countBetween(repo: string, base: string, head: string): Promise<number> {
    return Number((await this.git(repo, ['rev-list', '--count', `${base}..${head}`])).trim())
  }

  /** The tree of merging `theirs` into `ours`, or undefined when they conflict. */
  async mergeTree(repo: string, ours: string, theirs: string): Promise<string | undefined> {
    try {
      return (await this.git(repo, ['merge-tree', '--write-tree', ours, theirs])).split('\n')[0]
    } catch {
      return undefined
    }
  }

  /** A commit of `tree` with `parents`, made by GitHub on someone's behalf (merges). */
  async commitTree(
    repo: string,
    tree: string,
    parents: string[],
    message: string,
    author: GitAuthor
  ): Promise<string> {
    const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message]
    return (
      await this.git(repo, args, {
        env: {
          GIT_AUTHOR_NAME: author.name,
          GIT_AUTHOR_EMAIL: author.email,
          GIT_COMMITTER_NAME: 'GitHub',
          GIT_COMMITTER_EMAIL: 'noreply@github.com'
        }
      })
    ).trim()
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true })
  }

  // ---- smart HTTP ----------------------------------------------------------------------------

  /**
   * Serves `/<owner>/<repo>[.git]/(info/refs|git-upload-pack|git-receive-pack|...)` like GitHub:
   * fetches of a public repository need no credentials, of a private one a token that can read
   * it; pushes always need a token that can write. Credentials are HTTP Basic with the token as
   * the password. Returns false when the path is not a git path.
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    authenticate: (token: string) => GitCredential | undefined,
    record: (git: GitRequestRecord) => void
  ): boolean {
    const match = GIT_PATH.exec(url.pathname)
    if (!match) return false
    const [, owner, name, rest] = match
    const repoName = `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`
    const service =
      rest === 'info/refs'
        ? (url.searchParams.get('service') ?? undefined)
        : rest === 'git-upload-pack' || rest === 'git-receive-pack'
          ? rest
          : undefined
    const push = service === 'git-receive-pack'
    const token = basicPassword(req.headers.authorization)
    const credential = token === undefined ? undefined : authenticate(token)
    const info = this.lookup(repoName)
    record({
      repo: info?.fullName ?? repoName,
      service,
      push,
      token,
      login: credential?.login
    })
    const refuse = (status: number, message: string): void => {
      req.resume()
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
      if (status === 401) headers['www-authenticate'] = 'Basic realm="GitHub"'
      res.writeHead(status, headers)
      res.end(`${message}\n`)
    }
    if (req.headers.authorization !== undefined && !credential) {
      refuse(401, 'Invalid username or token. Password authentication is not supported.')
      return true
    }
    if (!info) {
      if (credential) refuse(404, 'Repository not found.')
      else refuse(401, 'Authentication required.')
      return true
    }
    const needs: GitAccess = push ? 'write' : info.private ? 'read' : 'none'
    if (needs !== 'none' && !credential) {
      refuse(401, 'Authentication required.')
      return true
    }
    if (credential && rank(credential.contents) < rank(needs)) {
      if (info.private && rank(credential.contents) < rank('read')) {
        refuse(404, 'Repository not found.')
      } else {
        refuse(403, `Permission to ${info.fullName}.git denied to ${credential.login}.`)
      }
      return true
    }
    this.ensure(info.fullName)
      .then(() =>
        this.backend(req, res, {
          pathInfo: `/${info.fullName}.git/${rest}`,
          query: url.search.replace(/^\?/, ''),
          remoteUser: credential?.login
        })
      )
      .catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(`stand-in git error: ${String(error)}\n`)
        } else res.destroy()
      })
    return true
  }

  /** Runs `git http-backend` as a CGI for one request. */
  private backend(
    req: IncomingMessage,
    res: ServerResponse,
    cgi: { pathInfo: string; query: string; remoteUser?: string }
  ): Promise<void> {
    const env = this.env({
      GIT_PROJECT_ROOT: this.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      PATH_INFO: cgi.pathInfo,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: cgi.query
    })
    const header = (name: string, value: string | string[] | undefined): void => {
      if (typeof value === 'string') env[name] = value
    }
    header('CONTENT_TYPE', req.headers['content-type'])
    header('CONTENT_LENGTH', req.headers['content-length'])
    header('HTTP_CONTENT_ENCODING', req.headers['content-encoding'])
    header('GIT_PROTOCOL', req.headers['git-protocol'])
    header('REMOTE_USER', cgi.remoteUser)
    return new Promise<void>((resolve, reject) => {
      const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.stdin.on('error', () => undefined)
      req.pipe(child.stdin)
      let head = Buffer.alloc(0)
      let started = false
      child.stdout.on('data', (chunk: Buffer) => {
        if (started) {
          res.write(chunk)
          return
        }
        head = Buffer.concat([head, chunk])
        const end = headerEnd(head)
        if (!end) return
        started = true
        const { status, headers } = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'))
        res.writeHead(status, headers)
        const body = head.subarray(end.at + end.length)
        if (body.length > 0) res.write(body)
      })
      child.once('error', reject)
      child.once('close', (code) => {
        if (!started) {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(`git http-backend exited ${code}: ${stderr}\n`)
        } else res.end()
        resolve()
      })
    })
  }
}

const GIT_PATH =
  /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.+)$/

/** Whether a request path is one git's smart (or dumb) HTTP protocol uses. */
export function isGitPath(path: string): boolean {
  return GIT_PATH.test(path)
}

function rank(access: GitAccess): number {
  return ['none', 'read', 'write'].indexOf(access)
}

/** The password of `Authorization: Basic base64(user:password)`, which GitHub takes as a token. */
function basicPassword(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^basic\s+(\S+)$/i.exec(header)
  if (!match) return ''
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? '' : decoded.slice(colon + 1)
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n')
  const lf = buffer.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 }
  if (lf >= 0) return { at: lf, length: 2 }
  return undefined
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200
  const headers: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500
    else headers[name] = value
  }
  return { status, headers }
}

/** A path as fast-import reads it: C-style quoted, so any byte but NUL is allowed. */
function quotePath(path: string): string {
  if (path === '' || path.includes('\0')) throw new Error(`invalid path ${JSON.stringify(path)}`)
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
}

/** Runs git, resolving with stdout; rejects with a GitError carrying stderr. */
export function run(
  args: string[],
  env: Record<string, string>,
  input?: string | Buffer,
  cwd?: string
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    child.once('error', reject)
    child.once('close', (code) => {
      if (code === 0) resolve(stdout)
      else
        reject(new GitError(`git ${args.join(' ')} exited ${code}: ${stderr.trim()}`, code, stderr))
    })
  })
}
