import type { IssueInfo } from '../github/event.js'
import { framingPreamble, requestBlock, untrustedBlock, type Frame } from './untrusted.js'

/**
 * The text the agent receives: kugetsu's preamble saying how to read the blocks, what kugetsu has
 * to tell (the issue on a first turn; the worktree and what changed since the last turn on later
 * ones), then the request. Everything people wrote is inside blocks of the turn's frame.
 */

export interface PromptParts {
  frame: Frame
  minPermission: string
  /** Who asked (authorised), and what they asked. */
  author: string
  message: string
}

/** The preamble, the sections in order (empty ones left out), then the request. */
export function composePrompt(parts: PromptParts, sections: string[]): string {
  const { frame, minPermission, author, message } = parts
  return [
    framingPreamble(frame, minPermission, author),
    ...sections.filter((section) => section.trim() !== ''),
    `Message from @${author} (the request of this turn):\n${requestBlock(frame, author, message)}`
  ].join('\n\n')
}

/** The issue itself, for a session's first turn. */
export function issueSection(
  ref: string,
  issue: IssueInfo,
  frame: Frame,
  authorTrusted?: boolean
): string {
  const kind = issue.isPullRequest ? 'pull request' : 'issue'
  const from = { author: issue.author, trusted: authorTrusted }
  const body = issue.body.trim() === '' ? '(no description)' : issue.body.trim()
  return [
    `You are now working on GitHub ${kind} ${ref}.`,
    `URL: ${issue.url}`,
    `Opened by: @${issue.author}`,
    'Title:',
    untrustedBlock(frame, { source: `${kind.replace(' ', '-')}-title`, ...from }, issue.title),
    'Description:',
    untrustedBlock(frame, { source: `${kind.replace(' ', '-')}-body`, ...from }, body)
  ].join('\n')
}
