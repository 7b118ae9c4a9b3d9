/**
 * Issue references: parsing what a user or an event gives us, the canonical text form used as the
 * key of every record, and names derived from it for files and cache keys.
 *
 * Accepted input forms (surrounding ASCII whitespace is trimmed, nothing else is tolerated):
 *
 * - `host/owner/repo#N`
 * - `owner/repo#N` (host from the defaults)
 * - `#N` and `N` (host, owner and repo from the defaults)
 * - `https://host/owner/repo/issues/N`, also `/pull/N` and `/pulls/N` (GitHub pull requests share
 *   the issue number space; `pulls` is Gitea/Forgejo's spelling), `http://` too. No query, no
 *   fragment, no trailing slash.
 *
 * GitHub names are case-insensitive, so the canonical form is lowercase.
 */
import { createHash } from 'node:crypto'
import { KugetsuError } from './errors.js'

export interface IssueRef {
  host: string
  owner: string
  repo: string
  number: number
}

export interface RefDefaults {
  host?: string
  owner?: string
  repo?: string
}

/** Longest stem `refFileStem` returns; longer readable stems are replaced by a hash. */
export const MAX_FILE_STEM_LENGTH = 200

const MAX_ISSUE_NUMBER = 2 ** 31 - 1
const MAX_HOSTNAME_LENGTH = 253
/** Longer than any valid ref (a URL of maximal components is about 430 characters). */
const MAX_INPUT_LENGTH = 512
const SHOWN_INPUT_LENGTH = 60

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const REPO = /^[A-Za-z0-9._-]{1,100}$/
const NUMBER = /^[1-9][0-9]{0,9}$/
const PORT = /^[1-9][0-9]{0,4}$/
const URL_FORM = /^https?:\/\/([^/]+)\/([^/]+)\/([^/]+)\/(?:issues|pull|pulls)\/([^/]+)$/
const EXPECTED = 'expected host/owner/repo#N, owner/repo#N, #N, N or an issue URL'

/**
 * Quotes (part of) an input for an error message: at most SHOWN_INPUT_LENGTH characters, with
 * everything outside printable ASCII escaped, so the message stays one short, unambiguous line.
 */
function show(input: string): string {
  const cut = input.length > SHOWN_INPUT_LENGTH
  const quoted = JSON.stringify(cut ? input.slice(0, SHOWN_INPUT_LENGTH) : input).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  return cut ? `${quoted.slice(0, -1)}…" (${input.length} characters)` : quoted
}

function invalid(input: string, reason: string): KugetsuError {
  return new KugetsuError('invalid-ref', `invalid issue ref ${show(input)}: ${reason}`)
}

/** Returns the reason `host` (optionally `host:port`) is not valid, or undefined if it is. */
function hostProblem(host: string): string | undefined {
  const colon = host.indexOf(':')
  const name = colon === -1 ? host : host.slice(0, colon)
  if (name.length === 0) return 'host is empty'
  if (name.length > MAX_HOSTNAME_LENGTH) return `host is longer than ${MAX_HOSTNAME_LENGTH}`
  const labels = name.toLowerCase().split('.')
  if (!labels.every((label) => HOST_LABEL.test(label))) {
    return `host ${show(name)} is not a hostname (dot-separated labels of a-z, 0-9 and -)`
  }
  if (colon !== -1) {
    const port = host.slice(colon + 1)
    if (!PORT.test(port) || Number(port) > 65535) {
      return `port ${show(port)} is not a number from 1 to 65535`
    }
  }
  return undefined
}

function ownerProblem(owner: string): string | undefined {
  if (owner.length === 0) return 'owner is empty'
  if (!OWNER.test(owner)) {
    return `owner ${show(owner)} is not a valid account name (letters, digits and single hyphens, at most 39)`
  }
  return undefined
}

function repoProblem(repo: string): string | undefined {
  if (repo.length === 0) return 'repository name is empty'
  if (!REPO.test(repo) || repo === '.' || repo === '..') {
    return `repository name ${show(repo)} is not valid (letters, digits, '.', '_' and '-', at most 100)`
  }
  return undefined
}

function numberProblem(text: string): string | undefined {
  if (!NUMBER.test(text) || Number(text) > MAX_ISSUE_NUMBER) {
    return `issue number ${show(text)} is not a positive integer without sign or leading zeros (at most ${MAX_ISSUE_NUMBER})`
  }
  return undefined
}

/** Validates every component and returns the canonical (lowercase) copy; throws `invalid-ref`. */
export function normalizeIssueRef(ref: IssueRef): IssueRef {
  const { host, owner, repo, number } = ref as Partial<IssueRef>
  const text = `${String(host)}/${String(owner)}/${String(repo)}#${String(number)}`
  if (typeof host !== 'string' || typeof owner !== 'string' || typeof repo !== 'string') {
    throw invalid(text, 'host, owner and repo must be strings')
  }
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw invalid(text, 'issue number must be an integer')
  }
  const problem =
    asciiProblem(host) ??
    asciiProblem(owner) ??
    asciiProblem(repo) ??
    hostProblem(host) ??
    ownerProblem(owner) ??
    repoProblem(repo) ??
    numberProblem(String(number))
  if (problem !== undefined) throw invalid(text, problem)
  return {
    host: host.toLowerCase(),
    owner: owner.toLowerCase(),
    repo: repo.toLowerCase(),
    number
  }
}

/**
 * Everything must be printable ASCII before anything is lowercased: `toLowerCase` maps some
 * non-ASCII characters (the Kelvin sign, dotted capital I) onto ASCII letters.
 */
function asciiProblem(text: string): string | undefined {
  return /^[\x21-\x7e]*$/.test(text)
    ? undefined
    : 'contains whitespace, control or non-ASCII characters'
}

function checkDefault(kind: 'host' | 'owner' | 'repo', value: string): string {
  const problem =
    asciiProblem(value) ??
    (kind === 'host'
      ? hostProblem(value)
      : kind === 'owner'
        ? ownerProblem(value)
        : repoProblem(value))
  if (problem !== undefined) {
    throw new KugetsuError('invalid-ref', `invalid default ${kind} ${show(value)}: ${problem}`)
  }
  return value
}

function resolveDefault(
  input: string,
  kind: 'host' | 'owner' | 'repo',
  defaults: RefDefaults | undefined
): string {
  const value = defaults?.[kind]
  if (value === undefined || value === '') {
    const hint = kind === 'host' ? 'host/owner/repo#N' : 'owner/repo#N'
    throw new KugetsuError(
      'invalid-ref',
      `cannot resolve issue ref ${show(input)}: no default ${kind === 'repo' ? 'repository' : kind} is set; give ${hint}`
    )
  }
  return checkDefault(kind, value)
}

/** Parses an issue reference (see the module comment for the forms); throws `invalid-ref`. */
export function parseIssueRef(input: string, defaults?: RefDefaults): IssueRef {
  if (typeof input !== 'string') {
    throw new KugetsuError(
      'invalid-ref',
      `invalid issue ref: expected a string, got ${typeof input}`
    )
  }
  if (input.length > MAX_INPUT_LENGTH) throw invalid(input, 'too long')
  const text = input.replace(/^[ \t\r\n\f\v]+|[ \t\r\n\f\v]+$/g, '')
  if (text.length === 0) throw invalid(input, `empty; ${EXPECTED}`)
  const ascii = asciiProblem(text)
  if (ascii !== undefined) throw invalid(input, ascii)

  // Components the input names; undefined ones come from the defaults.
  let host: string | undefined
  let owner: string | undefined
  let repo: string | undefined
  let numberText: string

  const url = URL_FORM.exec(text)
  if (url !== null) {
    ;[, host, owner, repo, numberText] = url as unknown as [string, string, string, string, string]
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw invalid(input, 'unsupported URL; expected https://host/owner/repo/issues/N')
  } else {
    const hash = text.indexOf('#')
    if (hash === -1) {
      if (!/^[0-9+-]/.test(text)) throw invalid(input, EXPECTED)
      numberText = text
    } else {
      const path = text.slice(0, hash)
      numberText = text.slice(hash + 1)
      const parts = path === '' ? [] : path.split('/')
      if (parts.length === 3) {
        ;[host, owner, repo] = parts as [string, string, string]
      } else if (parts.length === 2) {
        ;[owner, repo] = parts as [string, string]
      } else if (parts.length !== 0) {
        throw invalid(input, EXPECTED)
      }
    }
  }

  const numberIssue = numberProblem(numberText)
  if (numberIssue !== undefined) throw invalid(input, numberIssue)
  if (owner !== undefined && repo !== undefined) {
    const problem =
      (host === undefined ? undefined : hostProblem(host)) ??
      ownerProblem(owner) ??
      repoProblem(repo)
    if (problem !== undefined) throw invalid(input, problem)
  } else {
    owner = resolveDefault(input, 'owner', defaults)
    repo = resolveDefault(input, 'repo', defaults)
  }
  host ??= resolveDefault(input, 'host', defaults)
  return normalizeIssueRef({ host, owner, repo, number: Number(numberText) })
}

/** Canonical `host/owner/repo#N`, lowercase; throws `invalid-ref` for an invalid ref. */
export function formatIssueRef(ref: IssueRef): string {
  const { host, owner, repo, number } = normalizeIssueRef(ref)
  return `${host}/${owner}/${repo}#${number}`
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * A file-name stem for the ref: `host~owner~repo~N` with the port's `:` written `+`. No
 * component can contain `~` or `+`, so distinct refs give distinct stems; the characters are
 * `[a-z0-9._~+-]` only, so a stem never holds `/`, `\`, NUL, or is `.` or `..`. When that form
 * would be longer than MAX_FILE_STEM_LENGTH, the stem is `_` and the sha256 hex of the canonical
 * ref instead (a readable stem starts with a letter or digit, so the two forms cannot collide).
 */
export function refFileStem(ref: IssueRef): string {
  const { host, owner, repo, number } = normalizeIssueRef(ref)
  const stem = `${host.replace(':', '+')}~${owner}~${repo}~${number}`
  return stem.length <= MAX_FILE_STEM_LENGTH ? stem : `_${sha256(formatIssueRef(ref))}`
}
