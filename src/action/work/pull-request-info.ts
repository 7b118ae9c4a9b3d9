/**
 * The facts about a pull request that decide where a turn works, read from the REST object
 * (`GET /repos/{owner}/{repo}/pulls/{number}`) and checked, since everything else trusts them.
 */
import { KugetsuError } from '../../errors.js'

export interface PullRequestInfo {
  number: number
  state: 'open' | 'closed'
  merged: boolean
  draft: boolean
  title: string
  htmlUrl: string
  /** The head branch's name as its author wrote it: check it with isSafeBranchName before use. */
  headRef: string
  headSha: string
  /** full_name of the head repository; null when the fork was deleted */
  headRepo: string | null
  baseRef: string
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

function refuse(what: string): never {
  throw new KugetsuError(
    'invalid-response',
    `the API returned a pull request with ${what}, so kugetsu cannot tell where to work; if this persists, report it with the run's log`
  )
}

function field<T>(object: Json, name: string, check: (value: unknown) => value is T): T {
  const value = object[name]
  if (!check(value)) refuse(`no valid "${name}"`)
  return value
}

/**
 * Gitea and Forgejo have no draft flag: a pull request is a draft ("work in progress") while its
 * title starts with one of the instance's WORK_IN_PROGRESS_PREFIXES, `WIP:` and `[WIP]` by
 * default. Their newer versions say so in `draft` too; older ones do not.
 */
export const WIP_PREFIXES = ['WIP:', '[WIP]'] as const

export function isWipTitle(title: string): boolean {
  const upper = title.trimStart().toUpperCase()
  return WIP_PREFIXES.some((prefix) => upper.startsWith(prefix))
}

const isString = (value: unknown): value is string => typeof value === 'string'
const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0
const isSha = (value: unknown): value is string =>
  typeof value === 'string' && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value)

export function pullRequestInfo(json: unknown): PullRequestInfo {
  if (!isObject(json)) refuse('no body')
  const state = json.state
  if (state !== 'open' && state !== 'closed') refuse('an unknown "state"')
  const head = json.head
  const baseBranch = json.base
  if (!isObject(head)) refuse('no "head"')
  if (!isObject(baseBranch)) refuse('no "base"')
  const repo = head.repo
  let headRepo: string | null = null
  if (isObject(repo)) headRepo = field(repo, 'full_name', isString)
  else if (repo !== null && repo !== undefined) refuse('a "head.repo" that is not an object')
  // The single-pull endpoint says `merged`; list endpoints only `merged_at`.
  const merged = typeof json.merged === 'boolean' ? json.merged : typeof json.merged_at === 'string'
  const title = field(json, 'title', isString)
  return {
    number: field(json, 'number', isNumber),
    state,
    merged,
    draft: typeof json.draft === 'boolean' ? json.draft : isWipTitle(title),
    title,
    htmlUrl: field(json, 'html_url', isString),
    headRef: field(head, 'ref', isString),
    headSha: field(head, 'sha', isSha),
    headRepo,
    baseRef: field(baseBranch, 'ref', isString)
  }
}
