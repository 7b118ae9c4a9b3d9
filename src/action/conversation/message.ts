import { KugetsuError } from '../../errors.js'
import type { IssueInfo } from '../github/event.js'
import { checkMessageLength, sanitizeText } from './sanitize.js'

/**
 * The message of an accepted request as the agent will read it: hidden content stripped, then
 * refused when nothing is left or it is over the length limit. Called only after the author is
 * authorised, so a stranger's empty or oversized comment gets no answer at all.
 */
export function agentMessage(raw: string, source: 'comment' | 'dispatch', trigger: string): string {
  const message = sanitizeText(raw).trim()
  if (message === '') {
    throw new KugetsuError(
      'invalid-input',
      source === 'comment'
        ? `the comment has no message after ${trigger}`
        : 'a manual run needs a non-empty message input'
    )
  }
  return checkMessageLength(message)
}

/** The issue as the agent will read it: title and body without hidden content. */
export function agentIssue(issue: IssueInfo): IssueInfo {
  return { ...issue, title: sanitizeText(issue.title).trim(), body: sanitizeText(issue.body) }
}
