import { KugetsuError } from '../../errors.js'
import { parseIssueRef, type IssueRef } from '../../refs.js'
import { findTrigger } from './trigger.js'

/** What the workflow run is about, derived from the event before any heavy work. */
export type ActionRequest =
  | { kind: 'skip'; reason: string }
  | {
      kind: 'turn'
      ref: IssueRef
      message: string
      /** Login of whoever wrote the message, and their user type (`User`, `Bot`...). */
      author: string
      authorType: string
      /** The author's numeric user id, when the event carries it (for a co-author trailer). */
      authorId?: number
      source: 'comment' | 'dispatch'
      comment?: TriggerComment
      /** The issue as the event carried it; absent for manual runs. */
      issue?: IssueInfo
    }
  | { kind: 'command'; command: AdminCommand; ref?: IssueRef; base?: boolean }
  | {
      kind: 'closed'
      ref: IssueRef
      issue: IssueInfo
      /** Who closed it (the payload's sender), and their user type; '' when the payload has none. */
      closedBy: string
      closedByType: string
    }

export type AdminCommand = 'init' | 'list' | 'prune' | 'destroy'

export interface TriggerComment {
  id: number
  url: string
  authorType: string
  body: string
  /** When it was posted (ISO 8601), when the event says. */
  createdAt?: string
}

export interface IssueInfo {
  number: number
  title: string
  body: string
  url: string
  author: string
  isPullRequest: boolean
}

export interface RepoContext {
  /** host[:port] of GITHUB_SERVER_URL, lowercase. */
  host: string
  owner: string
  repo: string
}

export interface EventInputs {
  trigger: string
  command: string
  message: string
  issueRef: string
}

export const COMMANDS = ['run', 'init', 'list', 'prune', 'destroy'] as const

/* eslint-disable @typescript-eslint/no-explicit-any -- webhook payloads are untyped JSON */
function issueInfo(issue: any): IssueInfo {
  return {
    number: Number(issue?.number),
    title: String(issue?.title ?? ''),
    body: String(issue?.body ?? ''),
    url: String(issue?.html_url ?? ''),
    author: String(issue?.user?.login ?? 'unknown'),
    isPullRequest: issue?.pull_request !== undefined && issue?.pull_request !== null
  }
}

/** Gitea and Forgejo say so beside the issue (`is_pull`) in an issue_comment payload. */
function commentedIssue(payload: any): IssueInfo {
  const issue = issueInfo(payload?.issue)
  return payload?.is_pull === true ? { ...issue, isPullRequest: true } : issue
}

function userId(user: any): number | undefined {
  const id = Number(user?.id)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

export function repoContext(serverUrl: string, repository: string): RepoContext {
  let host: string
  try {
    host = new URL(serverUrl).host.toLowerCase()
  } catch {
    throw new KugetsuError('invalid-input', `GITHUB_SERVER_URL is not a URL: "${serverUrl}"`)
  }
  const [owner, repo, ...rest] = repository.split('/')
  if (!owner || !repo || rest.length > 0) {
    throw new KugetsuError('invalid-input', `GITHUB_REPOSITORY is not owner/repo: "${repository}"`)
  }
  return { host, owner, repo }
}

function issueInRepository(number: number, context: RepoContext): IssueRef {
  return parseIssueRef(`#${number}`, context)
}

/** Parses an `issue-ref` input and refuses refs to any repository but this one. */
export function refInThisRepository(input: string, context: RepoContext): IssueRef {
  const ref = parseIssueRef(input, context)
  const home = issueInRepository(ref.number, context)
  if (ref.host !== home.host || ref.owner !== home.owner || ref.repo !== home.repo) {
    throw new KugetsuError(
      'invalid-ref',
      `issue-ref must name an issue of ${context.owner}/${context.repo}, got "${input.slice(0, 100)}"`
    )
  }
  return ref
}

function commandRequest(inputs: EventInputs, context: RepoContext): ActionRequest {
  const command = inputs.command as AdminCommand
  if (command === 'destroy') {
    const target = inputs.issueRef.trim()
    if (target === '') {
      throw new KugetsuError(
        'invalid-input',
        'command destroy needs issue-ref (an issue, or "base")'
      )
    }
    if (target.toLowerCase() === 'base') return { kind: 'command', command, base: true }
    return { kind: 'command', command, ref: refInThisRepository(target, context) }
  }
  return { kind: 'command', command }
}

export function requestFromEvent(
  eventName: string,
  payload: any,
  inputs: EventInputs,
  context: RepoContext
): ActionRequest {
  const command = inputs.command.trim().toLowerCase() || 'run'
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new KugetsuError(
      'invalid-input',
      `command must be one of ${COMMANDS.join(', ')}; got "${inputs.command.slice(0, 50)}"`
    )
  }
  if (command !== 'run') return commandRequest({ ...inputs, command }, context)

  switch (eventName) {
    case 'issue_comment': {
      if (payload?.action !== 'created') {
        return {
          kind: 'skip',
          reason: `comment ${payload?.action ?? 'event'} (only new comments trigger)`
        }
      }
      const comment = payload.comment ?? {}
      const body = String(comment.body ?? '')
      const trigger = inputs.trigger.trim()
      if (trigger === '') throw new KugetsuError('invalid-input', 'trigger must not be empty')
      const match = findTrigger(body, trigger)
      if (!match) return { kind: 'skip', reason: `the comment does not contain ${trigger}` }
      // An empty message is refused only once the author is known to be allowed (see main).
      const issue = commentedIssue(payload)
      return {
        kind: 'turn',
        ref: issueInRepository(issue.number, context),
        message: match.message,
        author: String(comment.user?.login ?? 'unknown'),
        authorType: String(comment.user?.type ?? 'User'),
        authorId: userId(comment.user),
        source: 'comment',
        comment: {
          id: Number(comment.id),
          url: String(comment.html_url ?? ''),
          authorType: String(comment.user?.type ?? 'User'),
          body,
          createdAt: typeof comment.created_at === 'string' ? comment.created_at : undefined
        },
        issue
      }
    }
    case 'workflow_dispatch': {
      if (inputs.issueRef.trim() === '') {
        throw new KugetsuError('invalid-input', 'a manual run needs the issue-ref input')
      }
      const ref = refInThisRepository(inputs.issueRef, context)
      return {
        kind: 'turn',
        ref,
        message: inputs.message.trim(),
        author: String(payload?.sender?.login ?? process.env.GITHUB_ACTOR ?? 'unknown'),
        authorType: String(payload?.sender?.type ?? 'User'),
        authorId: userId(payload?.sender),
        source: 'dispatch'
      }
    }
    case 'issues': {
      if (payload?.action !== 'closed') {
        return {
          kind: 'skip',
          reason: `issues ${payload?.action ?? 'event'} is not handled (only closed)`
        }
      }
      const issue = issueInfo(payload.issue)
      return {
        kind: 'closed',
        ref: issueInRepository(issue.number, context),
        issue,
        closedBy: typeof payload.sender?.login === 'string' ? payload.sender.login : '',
        closedByType: String(payload.sender?.type ?? 'User')
      }
    }
    default:
      return { kind: 'skip', reason: `the ${eventName || 'unknown'} event is not handled` }
  }
}
